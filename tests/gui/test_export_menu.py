"""File > Export and a run's export buttons are built from core.files.export_formats: every format is offered."""

import pytest
import torch

from core.files.export_formats import EXPORT_FORMATS
from gui.training import actions
from gui.training.results import ResultsView


def _export_menu(window):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    return next(a.menu() for a in file_menu.actions() if a.menu() is not None and a.text() == "E&xport")


def test_file_export_menu_lists_every_format_including_pt2(window):
    entries = _export_menu(window).actions()
    assert entries == [window.action_map[f"export_{fmt_id}"] for fmt_id in EXPORT_FORMATS]
    assert window.action_map["export_pt2"].text() == "Export .pt2 program…"
    assert window.action_map["export_model"] is window.action_map["export"]  # the toolbar's Export Code


@pytest.mark.slow
def test_file_export_pt2_writes_a_loadable_program_marked_untrained(window, tmp_path, monkeypatch):
    target = tmp_path / "net.pt2"
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(target))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    window.action_map["export_pt2"].trigger()
    assert target.is_file(), messages
    text, error = messages[-1]
    assert not error and "untrained" in text
    program = torch.export.load(str(target))
    assert program.module() is not None


def test_file_export_weights_without_a_run_says_to_train_first(window, tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda *a: str(tmp_path / "w.pt"))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    window.action_map["export_weights"].trigger()
    assert messages == [("Train the network first: there are no trained weights yet.", True)]
    assert not (tmp_path / "w.pt").exists()


def test_run_buttons_follow_the_registry(qtbot):
    view = ResultsView()
    qtbot.addWidget(view)
    expected = [fmt_id for fmt_id, fmt in EXPORT_FORMATS.items() if fmt.run_button]
    assert list(view.export_buttons) == expected and "pt2" in expected
    assert view.export_buttons["pt2"].text() == ".pt2 program…" and view.export_buttons["weights"].text() == "Weights…"
    assert not view.export_buttons["pt2"].isEnabled() and view.export_buttons["script"].isEnabled()
    with qtbot.waitSignal(view.export_requested) as blocker:
        view.set_exports_enabled(True)
        view.export_buttons["pt2"].click()
    assert blocker.args == ["pt2"]


def test_an_export_never_replaces_the_project_file(window, tmp_path, monkeypatch, _no_modal_boxes):
    """The CLI refuses to write an export over a project file; File > Export and Export Code did it silently (the
    open project became a Python script)."""
    project = tmp_path / "net.json"
    assert window.save_as(project)
    before = project.read_bytes()
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda *a: str(project))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    window.action_map["export_script"].trigger()
    assert project.read_bytes() == before
    assert messages and messages[-1][1] and "project file" in messages[-1][0]
    assert not window.export_code(project)
    assert project.read_bytes() == before
    assert "project file" in _no_modal_boxes[-1][1]


def test_file_export_script_refuses_a_network_that_cannot_train_with_checks_words(window, tmp_path, monkeypatch):
    """The window's export goes through the same core refusal as the CLI: a two-output network (an imported
    ``forward`` returning a tuple) gets no training script, and the message says why."""
    from tests.core.test_export_refusals import TWO_OUTPUTS, two_outputs

    window.document.set_project(two_outputs())
    target = tmp_path / "net_train.py"
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(target))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    window.action_map["export_script"].trigger()
    assert len(messages) == 1 and messages[0][1] and TWO_OUTPUTS in messages[0][0], messages
    assert not target.exists()
