"""File > Export > Jupyter notebook writes the open project's notebook (the registry entry is the menu entry)."""

import pytest

from gui.training import actions

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[dev]')")


def test_file_export_jupyter_notebook_writes_the_open_projects_notebook(window, tmp_path, monkeypatch):
    target = tmp_path / "net.ipynb"
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(target))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    assert window.action_map["export_notebook"].text() == "Export Jupyter notebook…"
    window.action_map["export_notebook"].trigger()
    assert target.is_file(), messages
    text, error = messages[-1]
    assert not error and "code cells" in text
    cells = nbformat.read(target, as_version=4).cells
    assert any("class Net(nn.Module):" in cell.source for cell in cells if cell.cell_type == "code")
