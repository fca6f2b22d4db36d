"""Feedback that is right and where the user looks: a dataset that cannot load, a failed or paused run, the log,
the toolbar's Train, wiring into an occupied input, and the names and notices of exports."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

import core.datasets.vision as vision
from core.files.project import load
from core.model.node import Edge
from core.training import Trainer
from core.training.events import TrainEvent
from gui.training import actions
from gui.training.dashboard import TrainingDashboard
from tests.gui.mouse import drag

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
EVERY_BATCH = functools.partial(Trainer, event_interval=0)


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    """No download is ever tried: the data folder is empty and the network refuses."""

    def no_network(*args, **kwargs):
        raise OSError("no network in tests")

    monkeypatch.setenv("TORCHCANVAS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(vision, "urlopen", no_network)


def make_dashboard(qtbot, tmp_path, example: str = "digits_mlp.json", **training) -> TrainingDashboard:
    project = load(EXAMPLES / example)
    for key, value in training.items():
        setattr(project.training, key, value)
    dash = TrainingDashboard(trainer_factory=EVERY_BATCH)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.resize(1400, 800)
    dash.refresh_dataset()
    return dash


def choose(panel, spec: str) -> None:
    """Pick ``spec`` in the dataset list as a user does (the list emits ``activated``)."""
    index = panel.dataset.findData(spec)
    assert index >= 0, spec
    panel.dataset.setCurrentIndex(index)
    panel.dataset.activated.emit(index)
    for _ in range(3000):  # the choice loads in a thread: "Loading …" in the note, or in the preview when chosen again
        if "Loading" not in panel.data_note.text() + panel.preview.info.text():
            break
        QTest.qWait(10)


# -- a dataset that cannot load ---------------------------------------------------------------------------
@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_dataset_that_cannot_load_is_explained_and_train_keeps_working(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path)
    panel = dash.panel
    assert panel.train_button.isEnabled()
    choose(panel, "mnist")
    note = panel.data_note.text()
    assert "MNIST" in note and str(tmp_path / "data") in note  # why, and where the files go
    assert "npz:" in note and "digits" in note  # the other way, and what training uses meanwhile
    assert not panel.data_note.isHidden() and panel.data_note.wordWrap()
    assert dash.project.training.dataset == "digits" and panel.dataset.currentData() == "digits"
    assert panel.train_button.isEnabled(), panel.reason.text()  # digits still loads: no dead end
    choose(panel, "iris")  # any loadable choice is taken and clears the note
    assert dash.project.training.dataset == "iris" and panel.train_button.isEnabled()
    assert panel.data_note.text() == ""


@pytest.mark.slow
def test_a_project_whose_dataset_cannot_load_gets_train_back_with_any_loadable_choice(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "mnist_mlp.json")
    panel = dash.panel
    assert not panel.train_button.isEnabled()
    assert "mnist could not be loaded" in panel.reason.text() and "1. Data" in panel.reason.text()
    shown = panel.preview.info.text()  # the reason and what to do, said once, under 1. Data
    assert "MNIST" in shown and str(tmp_path / "data") in shown and "npz:" in shown
    choose(panel, "mnist")  # chosen again (say, after placing the files): tried again, still explained
    assert not panel.train_button.isEnabled() and "MNIST" in panel.preview.info.text()
    choose(panel, "digits")
    assert dash.project.training.dataset == "digits"
    assert panel.train_button.isEnabled() and panel.reason.text() == ""


# -- a failed, a paused run and the log ------------------------------------------------------------------
@pytest.mark.slow
def test_a_failed_run_says_what_failed_in_the_panel_and_clears_its_results(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", epochs=3, lr=1e6, optimizer="SGD")
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as blocker:
        dash.start_training()
    result = blocker.args[0]
    assert result.status == "failed"
    panel = dash.panel
    assert result.message in panel.reason.text() and panel.reason.wordWrap()  # in full, wrapped, in the panel
    assert "below" not in panel.progress.text() and "Failed" in panel.progress.text()
    assert panel.log.lineWrapMode() != panel.log.LineWrapMode.NoWrap  # the log shows the message in full too
    results = dash.results
    assert results.boundary_classes.size == 0 and not results.boundary.getPlotItem().listDataItems()
    assert not results.samples_title.text()
    for button in (results.weights_button, results.onnx_button, results.folder_button):
        assert not button.isEnabled()


def test_the_log_shows_its_newest_line_even_when_it_filled_while_hidden(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path)
    dash.show()
    qtbot.waitExposed(dash)
    panel, bar = dash.panel, dash.panel.log.verticalScrollBar()
    dash.tabs.setCurrentWidget(dash.results)  # the log is on the curves page, not in view
    for epoch in range(1, 121):
        panel.on_event(TrainEvent("epoch", epoch=epoch, epochs=120, loss=0.5, accuracy=0.8))
    dash.tabs.setCurrentWidget(dash.curves_page)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=10_000)
    for i in range(5):
        panel.on_event(TrainEvent("notice", message=f"notice {i}"))
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=10_000)


@pytest.mark.slow
def test_a_paused_run_says_paused_and_stops_its_eta(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", epochs=2000)
    dash.start_training()
    qtbot.waitUntil(lambda: dash.event_count.get("batch", 0) >= 3, timeout=30_000)
    assert "ETA" in dash.panel.progress.text()
    dash.pause()
    # until the trainer says it paused: the batch in flight has arrived by then, however loaded the machine
    qtbot.waitUntil(lambda: "Paused." in dash.panel.log.toPlainText().splitlines(), timeout=30_000)
    text = dash.panel.progress.text()
    assert text.startswith("Paused") and "ETA" not in text
    dash.resume()
    held = dash.event_count.get("batch", 0)
    qtbot.waitUntil(lambda: dash.event_count.get("batch", 0) > held + 1, timeout=10_000)
    assert "ETA" in dash.panel.progress.text() and "Paused" not in dash.panel.progress.text()
    assert dash.stop()


# -- the toolbar's Train -----------------------------------------------------------------------------------
def train_action(window):
    return next(a for a in window.findChildren(type(window.action_map["undo"])) if a.text() == "▶ Train")


def test_toolbar_train_is_off_on_an_invalid_network_with_the_reason_as_tooltip(window, tmp_path):
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    action = train_action(window)
    assert action.isEnabled()
    window.editor.disconnect(Edge("n3", "n4"))  # fc1 no longer feeds relu1
    window.document.refresh()
    assert not action.isEnabled()
    assert "relu1" in action.toolTip() or "fc2" in action.toolTip(), action.toolTip()
    assert action.toolTip() in dash.panel.reason.text()
    window.document.undo_stack.undo()
    window.document.refresh()
    assert action.isEnabled() and "train the network" in action.toolTip()


# -- wiring into an occupied input ------------------------------------------------------------------------
def test_wiring_into_an_occupied_input_replaces_the_wire_in_one_undo_step(window):
    graph, stack = window.document.graph, window.document.undo_stack
    start = window.scene.nodes["n3"].outputs[0].scenePos()  # fc1's output ...
    end = window.scene.nodes["n5"].inputs[0].scenePos()  # ... into fc2's input, fed by relu1
    drag(window.view, start, end)
    assert Edge("n3", "n5") in graph.edges and Edge("n4", "n5") not in graph.edges
    assert stack.count() == 1 and "relu1" in stack.text(0)
    assert set(window.scene.wires) == set(graph.edges)
    stack.undo()
    assert Edge("n4", "n5") in graph.edges and Edge("n3", "n5") not in graph.edges
    assert graph.inputs_of("n5") == [Edge("n4", "n5")]
    # a wire picked up at its input end and dropped on an occupied input: re-routed there, one step
    before = list(graph.edges)
    drag(window.view, window.scene.nodes["n5"].inputs[0].scenePos(), window.scene.nodes["n6"].inputs[0].scenePos())
    assert Edge("n4", "n6") in graph.edges
    assert Edge("n4", "n5") not in graph.edges and Edge("n5", "n6") not in graph.edges
    stack.undo()
    assert graph.edges == before


# -- export names and untrained weights -------------------------------------------------------------------
def test_suggested_export_names_come_from_the_project_name(window, monkeypatch, tmp_path):
    asked: list[str] = []

    def dialog(parent, title, start, *args):
        asked.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.export_code_dialog()
    actions.export_script(window, window.document.project)
    assert [Path(p).name for p in asked] == ["digits_mlp_model.py", "digits_mlp_train.py"]
    window.document.new()  # an unnamed project: never 'untitled_…' or 'model_model.py'
    asked.clear()
    window.export_code_dialog()
    actions.export_script(window, window.document.project)
    names = [Path(p).name for p in asked]
    assert not any("untitled" in n or n == "model_model.py" for n in names), names


def test_weights_of_a_run_that_finished_no_epoch_are_called_untrained(tmp_path, monkeypatch, qtbot):
    from core.files.export import build_model

    project = load(EXAMPLES / "digits_mlp.json")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    torch.save(build_model(project).module.state_dict(), run_dir / "last.pt")
    said: list[str] = []
    monkeypatch.setattr(actions, "inform", lambda parent, title, message, error=False: said.append(message))
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(tmp_path / suggested))
    stopped_early = SimpleNamespace(status="stopped", run_dir=run_dir, history=[])
    assert actions.export_weights(None, stopped_early, project) is not None
    assert "untrained" in said[-1]
    trained = SimpleNamespace(status="finished", run_dir=run_dir, history=[{"epoch": 1}])
    assert actions.export_weights(None, trained, project) is not None
    assert "untrained" not in said[-1]


@pytest.mark.slow
def test_onnx_without_any_run_says_the_weights_are_untrained(monkeypatch, tmp_path, qtbot):
    pytest.importorskip("onnx")
    project = load(EXAMPLES / "digits_mlp.json")
    said: list[str] = []
    monkeypatch.setattr(actions, "inform", lambda parent, title, message, error=False: said.append(message))
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(tmp_path / suggested))
    path = actions.export_onnx(None, None, project)
    assert path is not None and path.name == "digits_mlp.onnx" and path.is_file()
    assert "untrained" in said[-1]


# -- the network against its dataset and loss ----------------------------------------------------------------
def cnn_without_flatten():
    """Input [1, 8, 8] -> Conv2d -> ReLU -> MaxPool2d -> Linear(10) -> Output on digits: valid PyTorch, but its
    [N, 32, 3, 10] output cannot be compared with digits' 10 class labels."""
    from core.files.project import Project

    project = Project(name="Digits CNN")
    graph = project.graph
    ids = [graph.add("Input", "x", (0, 0), shape=[1, 8, 8]).id]
    for i, (layer, name, params) in enumerate(
        [
            ("Conv2d", "conv1", {"out_channels": 32, "kernel_size": 3}),
            ("ReLU", "relu1", {}),
            ("MaxPool2d", "pool1", {"kernel_size": 2}),
            ("Linear", "fc1", {"out_features": 10}),
            ("Output", "output", {}),
        ]
    ):
        node = graph.add(layer, name, (270.0 * (i + 1), 0), **params)
        graph.connect(Edge(ids[-1], node.id))
        ids.append(node.id)
    return project


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_network_that_does_not_fit_its_dataset_is_shown_everywhere_and_train_is_off(window, tmp_path):
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    window.document.set_project(cnn_without_flatten())
    fc1 = window.document.graph.by_name("fc1").id
    problem = next(m for m in window.problems.messages() if "Flatten" in m)
    assert "[N, 32, 3, 10]" in problem and "fc1" in problem
    item = window.scene.nodes[fc1]
    assert item.error and "Flatten" in item.error  # the node's badge
    assert "fc1" in window.valid_label.text() and "Flatten" in window.valid_label.toolTip()
    action = train_action(window)
    assert not action.isEnabled() and "Flatten" in action.toolTip()
    assert not dash.panel.train_button.isEnabled() and "Flatten" in dash.panel.reason.text()
    # the fix: a Flatten between pool1 and fc1 (the wire into fc1 is replaced)
    flatten = window.editor.add_layer("Flatten", (900.0, 200.0))
    pool1 = window.document.graph.by_name("pool1").id
    window.editor.connect(Edge(pool1, flatten.id))
    window.editor.connect(Edge(flatten.id, fc1))
    window.document.refresh()
    assert window.problems.messages()[0].startswith("No problems") and item.error is None
    assert action.isEnabled() and dash.panel.train_button.isEnabled()


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_changing_the_loss_checks_the_network_against_it_again(window, tmp_path, qtbot):
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    dash.panel.loss.setCurrentText("NLLLoss")  # expects log-probabilities; fc2 gives raw scores
    assert window.document.project.training.loss == "NLLLoss"
    qtbot.waitUntil(lambda: any("LogSoftmax" in m for m in window.problems.messages()), timeout=10_000)
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: window.problems.messages()[0].startswith("No problems"), timeout=10_000)
