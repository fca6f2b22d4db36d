"""A beginner's first hour, driven through the real window: File > New, a CNN for the digits set made with palette
drops and mouse wires, the missing-Flatten mistake seen in Problems (and Train off because of it), the fix, one
epoch of training, the training script exported through its file dialog, and that script run on its own from an
empty folder. Then the transfer-learning hour: a pretrained network from torch's cache, the user's own folder of
photos (the head refitted to its classes), the backbone frozen from the last layer's menu, a short run, and Try it
on a photo it never saw."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from core.model.node import Edge
from gui.shell.mainwindow import MainWindow
from tests.gui.mouse import click, drag, drop_mime, viewport_point

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


def photo(path: Path, colour: tuple[int, int, int], seed: int, size: int = 24) -> None:
    """A small 'photo': one colour with noise, so two classes differ as a beginner's cats and dogs might."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_first_hour_on_a_pretrained_network_with_my_own_photos(qtbot, tmp_path, monkeypatch):
    import torch

    from core.model.summary import param_split
    from core.pretrained.catalog import cache_path, entry_of
    from gui.panels.gallery import PretrainedDialog, open_pretrained
    from tests.core.pretrained_fixtures import served_weights

    # torch's cache already holds the weights (seeded here; nothing is downloaded: the served file is moved away)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = served_weights(tmp_path / "made", "shufflenet_v2_x0_5")
    cached = cache_path(weights.url)
    cached.parent.mkdir(parents=True)
    Path(weights.url.removeprefix("file://")).rename(cached)
    pretrained = torch.load(cached, weights_only=True)

    # my photos: a folder per class
    photos = tmp_path / "photos"
    for i in range(16):
        photo(photos / "red" / f"{i}.png", (200, 40, 40), i)
        photo(photos / "blue" / f"{i}.png", (40, 40, 200), 100 + i)

    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.open_example()
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    window.show()
    qtbot.waitExposed(window)

    # New from a pretrained network: the list says it is in the cache; Create imports it with its weights
    dialog = PretrainedDialog(window, entries=[entry_of("shufflenet_v2_x0_5", weights)], weights_of=lambda _: weights)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.list.item(0).text().endswith("(in the cache)")
    dialog.list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.accepted, timeout=120_000):
        dialog.create_button.click()
    open_pretrained(window, dialog.result_)
    graph, project = window.document.graph, window.document.project
    fc = graph.by_name("fc")
    assert fc.params["out_features"] == 1000 and project.training.initial_weights == str(cached)

    # my own photos: the head is refitted to their two classes in the same step
    dash.choose_dataset(f"folder:{photos}")
    assert project.training.dataset == f"folder:{photos}", dash.panel.data_note.text()
    assert fc.params["out_features"] == 2
    assert "New head: fc's out_features 1000 → 2" in dash.panel.settings_note.text()

    # the backbone frozen from the last layer's menu: only the head trains
    item = window.scene.nodes[fc.id]
    window.view.centerOn(item)
    point = viewport_point(window.view, item.sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, window.view.viewport().mapToGlobal(point))
    QApplication.sendEvent(window.view.viewport(), event)
    menu = window.view.context_menu
    menu.findChild(QAction, "freeze_before").trigger()
    menu.close()
    assert fc.trainable and not graph.by_name("conv1").trainable
    assert param_split(graph, window.document.analysis)[0] == 1024 * 2 + 2  # fc's weights and biases

    # a short run (the photos are resized to the network's 224x224, and Problems says so in words)
    train = window.findChild(QAction, "train_action")
    qtbot.waitUntil(lambda: any("resized to 224x224" in m for m in window.problems.messages()), timeout=10_000)
    assert train.isEnabled(), train.toolTip()
    dash.panel.epochs.setValue(3)
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        train.trigger()
    result = finished.args[0]
    assert result.status == "finished", result.message
    trained = dash.last_model.state_dict()
    for key in ("conv1.0.weight", "conv1.1.running_mean", "stage4.0.branch1.0.weight"):  # the frozen backbone
        assert torch.equal(trained[key].cpu(), pretrained[key]), key
    assert not torch.equal(trained["fc.weight"].cpu()[:2], pretrained["fc.weight"][:2])  # the new head learned

    # Try it on a new photo, bigger than the training ones
    view = dash.tryit
    dash.tabs.setCurrentWidget(view)
    assert view.model is not None, view.note.text()
    new = tmp_path / "new" / "my_red_thing.png"
    photo(new, (210, 30, 50), 999, size=40)
    view.load_image(str(new))
    qtbot.waitUntil(lambda: view.true_label.text() == "my_red_thing.png", timeout=30_000)  # read in a thread
    qtbot.waitUntil(lambda: len(view.probs) == 2, timeout=30_000)  # a slow forward predicts in the background
    assert abs(float(view.probs.sum()) - 1) < 1e-5
    assert any(name in view.prediction.text() for name in ("red", "blue"))  # in the words of the photos' folders
