"""File > Import PyTorch Model…: the menu entry, the dialog's warning, an import that opens as a project with
blocks and initial weights, and a failure that is a message (dialogs answered by monkeypatching)."""

from __future__ import annotations

import time

import pytest

from gui.shell.import_dialog import WARNING, ImportDialog, import_into


def test_menu_has_the_import_entry_and_the_dialog_says_a_py_file_runs(window, qtbot) -> None:
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Import PyTorch Model…" in texts
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    assert "runs it" in WARNING and dialog.source.text() == "torchvision:resnet18"


@pytest.mark.slow
def test_resnet18_imports_and_shows_with_its_blocks(window, tmp_path, qtbot) -> None:
    path = tmp_path / "resnet18.json"
    started = time.perf_counter()
    job = import_into(window, "torchvision:resnet18", "3,224,224", "", path)
    qtbot.waitUntil(lambda: job.done, timeout=240_000)
    assert job.ok, job.message
    seconds = time.perf_counter() - started
    print(f"import + show resnet18: {seconds:.2f} s")
    graph = window.document.project.graph
    assert graph.by_name("layer2").repeat == 2 and "BasicBlock" in graph.blocks
    assert len(window.scene.nodes) == len(graph)
    assert (tmp_path / "resnet18.initial.pt").is_file()


@pytest.mark.slow  # a child process imports torch: seconds
def test_a_failed_import_is_a_message(window, tmp_path, monkeypatch, qtbot) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    job = import_into(window, "torchvision:no_such_net", "3,224,224", "", tmp_path / "x.json")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert not job.ok
    assert shown and shown[0].startswith("torchvision has no classification model 'no_such_net'"), shown
    assert not (tmp_path / "x.json").exists()


@pytest.mark.slow
def test_training_from_the_window_starts_from_the_initial_weights(qtbot, tmp_path, monkeypatch) -> None:
    import types

    import torch
    from torch import nn

    from core.files.initial_weights import save_with_weights
    from core.files.project import load
    from core.fx_import import import_model
    from core.training import Trainer
    from gui.training.dashboard import TrainingDashboard

    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    torch.manual_seed(0)
    model = nn.Sequential()  # a root without blocks: two layers named by their attributes
    model.hidden, model.out = nn.Linear(2, 8), nn.Linear(8, 3)
    result = import_model(model, [2], name="tiny")
    path = tmp_path / "tiny.json"
    result.project.training.dataset, result.project.training.epochs = "spirals", 1
    save_with_weights(result.project, result.state, path)
    project = load(path)
    seen: dict[str, object] = {}

    def factory(project, **kwargs):
        seen.update(kwargs)
        return Trainer(project, **kwargs)

    dash = TrainingDashboard(trainer_factory=factory)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.document = types.SimpleNamespace(path=path, snapshot=lambda: project)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as blocker:
        dash.start_training()
    assert blocker.args[0].status == "finished", blocker.args[0].message
    assert seen["initial_weights"] == tmp_path / "tiny.initial.pt"


@pytest.mark.slow  # a child process: seconds
def test_cancel_stops_a_file_that_loops_forever_and_the_window_goes_on(window, tmp_path, monkeypatch, qtbot) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    source = tmp_path / "loops.py"
    source.write_text("while True:\n    pass\n", encoding="utf-8")
    job = import_into(window, f"{source}:Net", "2", "", tmp_path / "x.json")
    assert job.progress.isVisible() and "Importing" in job.progress.line.text()
    qtbot.wait(1500)
    assert not job.done  # still looping; the window answered meanwhile (qtbot.wait ran its event loop)
    job.progress.cancel.click()
    qtbot.waitUntil(lambda: job.done, timeout=30_000)
    assert not job.ok and job.cancelled and not shown
    assert "cancelled" in window.statusBar().currentMessage()
    assert not job.progress.isVisible() and not (tmp_path / "x.json").exists()


@pytest.mark.slow  # a child process: seconds
def test_a_file_that_calls_sys_exit_is_a_message_and_the_window_stays(window, tmp_path, monkeypatch, qtbot) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    source = tmp_path / "quits.py"
    source.write_text("import sys\n\nsys.exit(3)\n", encoding="utf-8")
    job = import_into(window, f"{source}:Net", "2", "", tmp_path / "x.json")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert not job.ok and shown and "stops the program (sys.exit(3)) at line 3" in shown[0], shown
    assert window.isVisible()


DEVICE_NET = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        if x.is_cuda:  # the importer draws the CPU path and notes it
            x = x * 1
        return self.fc(x)
"""


@pytest.mark.slow  # a child process imports torch: seconds
def test_the_importer_s_notes_are_shown_when_the_import_is_done(window, tmp_path, monkeypatch, qtbot) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    source = tmp_path / "devnet.py"
    source.write_text(DEVICE_NET, encoding="utf-8")
    job = import_into(window, f"{source}:Net", "2", "", tmp_path / "devnet.json")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert job.ok and not shown, shown
    # the progress window stays as the result, with the note the command line prints as 'note: ...'
    assert job.progress.isVisible() and job.progress.notes.isVisible()
    assert "forward asks where its input lives (`.is_cuda` as False)" in job.progress.notes.text()
    assert job.progress.line.text().startswith(f"Imported {source}:Net in ")
    assert "1 note in the import window" in window.statusBar().currentMessage()
    assert job.progress.cancel.text() == "Close"
    job.progress.cancel.click()
    assert not job.progress.isVisible()


def test_the_frozen_app_runs_the_import_as_its_own_subcommand(tmp_path, monkeypatch, capsys) -> None:
    """A PyInstaller build has no `python -m core`: the child is the app itself with `import ...`, and the app's
    entry (packaging/torchcanvas_main.py, run as __main__ as the frozen executable runs it) imports."""
    import runpy
    import sys
    from pathlib import Path

    from gui.shell.import_dialog import child_notes, import_command

    source = tmp_path / "devnet.py"
    source.write_text(DEVICE_NET, encoding="utf-8")
    out = tmp_path / "frozen.json"
    app = str(tmp_path / "dist" / "torchcanvas" / "torchcanvas")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", app)
    command = import_command(f"{source}:Net", "2", "", out)
    assert command[:2] == [app, "import"] and "-m" not in command
    monkeypatch.setattr(sys, "argv", command)  # argv[0] is the executable, as the frozen app sees it
    entry = Path(__file__).resolve().parents[2] / "packaging" / "torchcanvas_main.py"
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(entry), run_name="__main__")
    assert ended.value.code == 0, capsys.readouterr().err
    assert out.is_file() and (tmp_path / "frozen.initial.pt").is_file()
    notes = child_notes(capsys.readouterr().out)
    assert notes and notes[0].startswith("forward asks where its input lives")
