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
    assert import_into(window, "torchvision:resnet18", "3,224,224", "", path)
    qtbot.wait(1)
    seconds = time.perf_counter() - started
    print(f"import + show resnet18: {seconds:.2f} s")
    graph = window.document.project.graph
    assert graph.by_name("layer2").repeat == 2 and "BasicBlock" in graph.blocks
    assert len(window.scene.nodes) == len(graph)
    assert (tmp_path / "resnet18.initial.pt").is_file()


def test_a_failed_import_is_a_message(window, tmp_path, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    assert not import_into(window, "torchvision:no_such_net", "3,224,224", "", tmp_path / "x.json")
    assert shown and "no classification model" in shown[0]
    assert not (tmp_path / "x.json").exists()


@pytest.mark.slow
def test_training_from_the_window_starts_from_the_initial_weights(qtbot, tmp_path, monkeypatch) -> None:
    import types

    import torch
    from torch import nn

    from core.files.project import load
    from core.fx_import import import_model
    from core.fx_import.initial import save_with_weights
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


def test_an_unexpected_failure_is_a_message_and_a_log(window, tmp_path, monkeypatch) -> None:
    import core.fx_import

    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(core.fx_import, "import_model", broken)
    assert not import_into(window, "torchvision:squeezenet1_1", "3,64,64", "", tmp_path / "x.json")
    assert shown and "importer failed" in shown[0] and "import-errors.log" in shown[0]
