"""The window's import of a file that never ends, or that wants its own command line (tester's J4): the progress only
counted seconds until Cancel, where the command line's --timeout says the file may loop when it is run; and the
argparse message sent the window user to a terminal, the dialog having no field for --argv. Now a hint appears
under the progress after HINT_AFTER_S (the import goes on), and the dialog has an Arguments field."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.fx_import.source import load_source
from core.fx_import.trace import ModelImportError
from gui.shell.import_dialog import (
    HINT_AFTER_S,
    ImportDialog,
    ImportJob,
    for_the_window,
    import_command,
    import_into,
    project_name,
    source_for_file,
)

FOREVER = """import torch.nn as nn

while True:
    pass


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""

ARGPARSE = """import argparse

import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", required=True)
parser.add_argument("--hidden", type=int, default=6)
args = parser.parse_args()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 2))

    def forward(self, x):
        return self.net(x)
"""


@pytest.mark.slow  # a real looping child process
def test_an_import_that_runs_long_says_the_file_may_loop_and_goes_on(window, qtbot, tmp_path: Path) -> None:
    source = tmp_path / "forever.py"
    source.write_text(FOREVER, encoding="utf-8")
    now = [0.0]
    job = ImportJob(window, f"{source}:Net", "4", "", tmp_path / "f.json", clock=lambda: now[0])
    job.start()
    try:
        now[0] = HINT_AFTER_S - 1.0
        qtbot.waitUntil(lambda: f"… {HINT_AFTER_S - 1} s" in job.progress.line.text(), timeout=5_000)
        assert not job.progress.hint.isVisible()  # a moment's wait says nothing
        now[0] = HINT_AFTER_S + 1.0
        qtbot.waitUntil(job.progress.hint.isVisible, timeout=5_000)
        hint = job.progress.hint.text()
        assert f"Still running after {HINT_AFTER_S} s" in hint, hint
        assert "if the file loops, or trains, when it is run" in hint and 'if __name__ == "__main__":' in hint, hint
        assert not job.done  # the hint does not stop the import: a big model may only be slow
    finally:
        job.cancel()
        qtbot.waitUntil(lambda: job.done, timeout=30_000)
    assert not job.ok
    assert window.statusBar().currentMessage() == f"Import of {source}:Net cancelled."


def test_the_argparse_message_points_at_the_dialog_s_arguments_field(tmp_path: Path) -> None:
    source = tmp_path / "cli_model.py"
    source.write_text(ARGPARSE, encoding="utf-8")
    with pytest.raises(ModelImportError) as refused:
        load_source(f"{source}:Net")
    said = for_the_window(str(refused.value))
    assert "in the dialog's Arguments field (e.g. '--dataset fake')" in said, said
    assert "--argv" not in said and "from a terminal" not in said, said


def test_the_arguments_field_goes_to_the_importer_as_argv(window) -> None:
    dialog = ImportDialog(window)
    assert dialog.argv.text() == ""  # the field exists, empty by default
    command = import_command("m.py:Net", "4", "", "/tmp/p.json", "--dataset fake --hidden 3")
    assert command[-1] == "--argv=--dataset fake --hidden 3"
    assert not any(part.startswith("--argv") for part in import_command("m.py:Net", "4", "", "/tmp/p.json"))


@pytest.mark.slow  # the child process imports torch: seconds
def test_a_file_that_parses_its_command_line_imports_from_the_window(window, qtbot, tmp_path, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    source = tmp_path / "cli_model.py"
    source.write_text(ARGPARSE, encoding="utf-8")
    job = import_into(window, f"{source}:Net", "4", "", tmp_path / "cli.json", "--dataset fake --hidden 3")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert job.ok and not shown, shown
    assert (tmp_path / "cli.json").is_file()


def test_browsing_to_a_file_fills_in_its_model_class(tmp_path: Path) -> None:
    one = tmp_path / "lenet.py"
    one.write_text(FOREVER, encoding="utf-8")  # read, never run
    assert source_for_file(str(one)) == f"{one}:Net"
    none = tmp_path / "helpers.py"
    none.write_text("def f():\n    return 1\n", encoding="utf-8")
    assert source_for_file(str(none)) == f"{none}:ClassName"
    assert project_name(f"{one}") == "lenet"  # not lenet.py.json
    assert project_name(f"{one}:Net") == "Net"
