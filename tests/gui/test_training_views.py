"""The dashboard's views: results after a real run, the settings form and its undo, plots at scale, runs."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PySide6.QtGui import QUndoStack

from core.files.project import load
from core.model.node import Edge
from core.training import Trainer
from gui.training import actions
from gui.training.dashboard import TrainingDashboard
from gui.training.plots import LivePlots

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture(autouse=True)
def _logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def make_dashboard(qtbot, tmp_path, example: str, stack: QUndoStack | None = None, **training):
    project = load(EXAMPLES / example)
    for key, value in training.items():
        setattr(project.training, key, value)
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project, stack)
    if stack is not None:  # as in the window: the stack never outlives the dashboard's widgets half-deleted
        stack.setParent(dash)
    dash.refresh_dataset()
    dash.resize(1400, 800)
    return dash


def train(qtbot, dash):
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as blocker:
        dash.start_training()
    return blocker.args[0]


@pytest.mark.slow
def test_results_fill_in_for_images(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "digits_mlp.json", epochs=1)
    assert dash.panel.preview.kind == "images" and dash.panel.preview.grid.count() == 16
    assert "10 classes" in dash.panel.preview.info.text()
    result = train(qtbot, dash)
    assert result.status == "finished"
    view = dash.results
    assert dash.tabs.currentWidget() is view
    assert f"{100 * result.test_accuracy:.1f}%" in view.summary.text()
    matrix = view.confusion.matrix
    assert matrix.shape == (10, 10) and view.confusion.names == [str(i) for i in range(10)]
    assert view.confusion.cell_text(3, 3) == str(result.confusion[3][3])
    assert matrix.sum() == sum(map(sum, result.confusion)) == len(dash.dataset.y_test)
    view.confusion.grab()  # paints
    captions = view.samples.captions()
    assert len(captions) == 24
    wrong = min(len(result.misclassified), 24)
    assert wrong > 0  # one epoch leaves mistakes to show
    assert all("true:" in c for c in captions[:wrong]) and not any("true:" in c for c in captions[wrong:])
    assert len(view.per_class_values) == 10 and max(view.per_class_values) > 50
    assert dash.runs.table.rowCount() == 1


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_decision_boundary_for_a_2d_set(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", epochs=2)
    assert dash.panel.preview.kind == "scatter"
    result = train(qtbot, dash)
    assert result.status == "finished"
    classes = dash.results.boundary_classes
    assert classes.shape == (160, 160) and set(np.unique(classes)) <= {0, 1, 2}
    assert dash.results.examples.currentWidget() is dash.results.boundary


@pytest.mark.slow
def test_runs_list_overlays_selected_runs_and_reloads_from_disk(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", epochs=2)
    train(qtbot, dash)
    dash.panel.epochs.setValue(3)
    train(qtbot, dash)
    assert dash.runs.table.rowCount() == 2
    dash.runs.table.selectAll()
    curves = dash.runs.plot.getPlotItem().listDataItems()
    assert [len(c.getData()[0]) for c in curves] == [2, 3]
    again = make_dashboard(qtbot, tmp_path, "spirals.json")
    assert again.runs.table.rowCount() == 2
    assert again.runs.records[1].settings["epochs"] == 3 and len(again.runs.records[1].history) == 3


def test_settings_edits_are_undoable(qtbot, tmp_path):
    stack = QUndoStack()
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", stack=stack)
    project = dash.project
    dash.panel.epochs.setValue(7)
    dash.panel.epochs.setValue(8)  # typing merges into one undo step
    dash.panel.optimizer.setCurrentText("SGD")
    assert (project.training.epochs, project.training.optimizer) == (8, "SGD")
    stack.undo()
    assert project.training.optimizer == "Adam" and dash.panel.optimizer.currentText() == "Adam"
    stack.undo()
    assert project.training.epochs == 30 and dash.panel.epochs.value() == 30
    dash.panel.lr.setText("abc")
    dash.panel.lr.editingFinished.emit()
    assert project.training.lr == 0.01 and "positive number" in dash.panel.settings_note.text()


def test_choosing_a_dataset_sets_the_input_shape_in_one_undo_step(qtbot, tmp_path):
    stack = QUndoStack()
    dash = make_dashboard(qtbot, tmp_path, "digits_mlp.json", stack=stack)
    graph = dash.project.graph
    dash.choose_dataset("iris")
    assert dash.project.training.dataset == "iris"
    assert graph.nodes_of_type("Input")[0].params["shape"] == [4]
    assert "Input node now takes [4]" in dash.panel.settings_note.text()
    stack.undo()
    assert dash.project.training.dataset == "digits"
    assert graph.nodes_of_type("Input")[0].params["shape"] == [1, 8, 8]
    assert dash.panel.dataset.currentData() == "digits"


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_train_is_disabled_with_the_reason_while_the_graph_has_problems(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json")
    assert dash.panel.train_button.isEnabled()
    graph = dash.project.graph
    edge = graph.edges[-1]
    graph.disconnect(edge)
    assert not dash.panel.train_button.isEnabled()
    assert "Train is off" in dash.panel.reason.text()
    assert dash.start_training() is None
    graph.connect(Edge(edge.src, edge.dst, edge.dst_port, edge.src_port))
    assert dash.panel.train_button.isEnabled() and dash.panel.reason.text() == ""


def test_a_dataset_that_cannot_load_blocks_train_with_its_message(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", dataset=f"npz:{tmp_path / 'missing.npz'}")
    assert not dash.panel.train_button.isEnabled()
    assert "missing.npz could not be loaded" in dash.panel.reason.text()
    assert "missing.npz" in dash.panel.preview.info.text()


def fake_event(kind: str, step: int, batches: int = 100, **values):
    base = dict(epoch=step // batches + 1, epochs=10, batch=step % batches, batches=batches, step=step)
    base.update(loss=None, accuracy=None, lr=None, val_loss=None, val_accuracy=None, samples_per_s=1.0, eta_s=1.0)
    base.update(values)
    return SimpleNamespace(kind=kind, message="", **base)


@pytest.mark.slow
def test_plots_stay_fast_with_300k_points_and_read_values_on_hover(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    n = 300_000
    for step in range(1, n + 1):
        plots.add_event(fake_event("batch", step, batches=30_000, loss=1.0 / step**0.3, lr=0.01))
    for epoch in range(1, 11):
        plots.add_event(fake_event("epoch", epoch * 30_000, epoch=epoch, loss=0.5, val_loss=0.6, accuracy=0.9))
    started = time.perf_counter()
    plots.redraw()
    plots.loss_widget.grab()  # paint once with every point
    first = time.perf_counter() - started
    started = time.perf_counter()
    for step in range(n + 1, n + 101):
        plots.add_event(fake_event("batch", step, batches=30_000, loss=0.1, lr=0.01))
        plots.redraw()
    plots.loss_widget.grab()
    per_update = (time.perf_counter() - started) / 100
    assert plots.point_counts()["batch loss"] == n + 100 and plots.drawn_counts()["batch loss"] == n + 100
    print(f"first paint {first:.2f} s, {1000 * per_update:.1f} ms per update")
    # fast whatever the machine: what is drawn is screen-sized, not 300k points (pyqtgraph keeps up to 5 samples
    # per pixel and "peak" 2 of each); timing bounds failed on a loaded machine
    width = plots.loss_widget.width()
    for item in plots.loss_widget.getPlotItem().listDataItems():
        if item.name().startswith("batch loss"):
            assert len(item.getData()[0]) <= 10 * width, (item.name(), len(item.getData()[0]), width)
    plots.hover_at(plots.loss_widget, 5.0, 0.5)
    assert "epoch 5.00" in plots.readout.text() and "validation loss / epoch: 0.6" in plots.readout.text()
    plots.log_scale.setChecked(True)
    assert plots.loss_widget.getPlotItem().ctrl.logYCheck.isChecked()


@pytest.mark.slow
def test_export_buttons_write_files_or_explain(qtbot, tmp_path, monkeypatch):
    dash = make_dashboard(qtbot, tmp_path, "spirals.json", epochs=1)
    assert not dash.results.weights_button.isEnabled()
    train(qtbot, dash)
    target = {"path": str(tmp_path / "w.pt")}
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda *a: target["path"])
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    dash.results.weights_button.click()
    state = torch.load(tmp_path / "w.pt")
    assert set(state) == set(dash.last_model.state_dict())
    target["path"] = str(tmp_path / "train.py")
    dash.results.script_button.click()
    assert "import torch" in (tmp_path / "train.py").read_text()
    target["path"] = str(tmp_path / "model.onnx")
    dash.results.onnx_button.click()  # the export extra is installed in the dev environment
    assert (tmp_path / "model.onnx").stat().st_size > 1000, messages
    monkeypatch.setattr(dash, "last_result", None)
    dash.results.onnx_button.click()  # no run: written all the same, and said to be untrained
    text, error = messages[-1]
    assert not error and "untrained" in text
