"""A beginner's first hour, driven through the real window: File > New, a CNN for the digits set made with palette
drops and mouse wires, the missing-Flatten mistake seen in Problems (and Train off because of it), the fix, one
epoch of training, the training script exported through its file dialog, and that script run on its own from an
empty folder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtWidgets import QFileDialog

from core.model.node import Edge
from gui.shell.mainwindow import MainWindow
from tests.gui.mouse import click, drag, drop_mime

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier


def drop_layer(window: MainWindow, layer_id: str, where: QPointF) -> str:
    """Drag ``layer_id`` out of the palette and drop it at ``where``; the new node's id."""
    before = {n.id for n in window.document.graph.nodes}
    item = window.palette.items[layer_id]
    assert drop_mime(window.view, window.palette.tree.mimeData([item]), where), layer_id
    (new,) = [n.id for n in window.document.graph.nodes if n.id not in before]
    return new


def wire(window: MainWindow, src: str, dst: str) -> None:
    """Drag from ``src``'s output port to ``dst``'s input port."""
    nodes = window.scene.nodes
    drag(window.view, nodes[src].outputs[0].scenePos(), nodes[dst].inputs[0].scenePos())


def test_first_hour_from_an_empty_canvas_to_a_script_that_runs(qtbot, tmp_path, monkeypatch):
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.open_example()  # what the app shows at first start
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    window.show()
    qtbot.waitExposed(window)

    # File > New: an empty canvas
    window.action_map["new"].trigger()
    graph = window.document.graph
    assert len(graph) == 0 and window.document.project.training.dataset == "digits"

    # a CNN from the palette, in two rows inside the visible canvas
    view = window.view
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    step = seen.width() / 4

    def spot(column: int, row: int) -> QPointF:
        return QPointF(seen.left() + step * (column + 0.3), seen.top() + seen.height() * (0.25 + 0.45 * row))

    layers = [
        ("Input", 0, 0),
        ("Conv2d", 1, 0),
        ("ReLU", 2, 0),
        ("MaxPool2d", 3, 0),
        ("Linear", 1, 1),
        ("Output", 3, 1),
    ]
    x, conv, relu, pool, fc, out = (drop_layer(window, layer, spot(c, r)) for layer, c, r in layers)
    assert graph.node(x).params["shape"] == [1, 8, 8]  # a new Input takes the dataset's sample shape
    for src, dst in ((x, conv), (conv, relu), (relu, pool), (pool, fc), (fc, out)):
        wire(window, src, dst)
    assert len(graph.edges) == 5

    # ten classes: fc's out_features through the inspector
    click(view, window.scene.nodes[fc].sceneBoundingRect().center())
    assert window.inspector.node_id == fc
    window.inspector.editors["out_features"].widget.setValue(10)
    assert graph.node(fc).params["out_features"] == 10

    # the mistake: no Flatten, so the output is [N, 32, 3, 10]; Problems says so and Train is off
    qtbot.waitUntil(lambda: any("Flatten" in m for m in window.problems.messages()), timeout=10_000)
    problem = next(m for m in window.problems.messages() if "Flatten" in m)
    assert "[N, 32, 3, 10]" in problem
    assert window.scene.nodes[fc].error and "Flatten" in window.scene.nodes[fc].error
    train = window.findChild(type(window.action_map["new"]), "train_action")
    assert not train.isEnabled() and "Flatten" in train.toolTip()

    # the fix: a Flatten between the pooling and the Linear (its wire into fc replaces the old one)
    flatten = drop_layer(window, "Flatten", spot(0, 1))
    wire(window, pool, flatten)
    wire(window, flatten, fc)
    assert Edge(pool, fc) not in graph.edges and Edge(flatten, fc) in graph.edges
    qtbot.waitUntil(lambda: window.problems.messages()[0].startswith("No problems"), timeout=10_000)
    assert "[N, 10]" in window.output_label.text() and train.isEnabled()

    # one epoch on the offline digits set, started from the toolbar
    dash.panel.epochs.setValue(1)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as finished:
        train.trigger()
    result = finished.args[0]
    assert result.status == "finished", result.message
    assert result.test_accuracy is not None and result.test_accuracy > 0.2  # far better than chance (0.1)

    # export the training script, answering the file dialog
    script = tmp_path / "export" / "first_cnn_train.py"
    script.parent.mkdir()
    suggested: list[str] = []

    def save_dialog(parent, title, start, filters, *args):
        suggested.append(start)
        return str(script), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    dash.results.script_button.click()
    assert script.is_file() and "untitled" not in suggested[0].lower()

    # the script runs on its own, from an empty folder
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": ""}  # nothing of TorchCanvas is needed to run it
    run = subprocess.run([sys.executable, str(script)], cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Epoch 1/1" in run.stdout and "Test loss" in run.stdout
    assert (empty / "model_weights.pt").is_file()
