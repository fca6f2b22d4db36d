"""Why this prediction in Try it: after a prediction, an image shows where the network looked (Grad-CAM over the
picture, the numbers core.inspect.attribution.Explainer gives for the sample as the network took it), a table row
shows one bar per column with the user's column names; without Captum, the install line."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
import torch

from core.files.project import Project
from core.inspect.attribution import INSTALL, Explainer
from core.model.graph import Graph
from core.settings import TrainingSettings
from core.training import Trainer
from gui.training.dashboard import TrainingDashboard
from tests.core.train_fixtures import mlp_project

pytest.importorskip("captum")
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]  # each test trains


@pytest.fixture(autouse=True)
def _logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def digits_cnn() -> Project:
    """A small CNN on the 8x8 digits: two convolutions (Grad-CAM reads conv2), a linear head."""
    graph = Graph()
    graph.chain(
        [
            graph.add("Input", "x", shape=[1, 8, 8]),
            graph.add("Conv2d", "conv1", out_channels=8, kernel_size=3, padding=1),
            graph.add("ReLU", "relu1"),
            graph.add("Conv2d", "conv2", out_channels=8, kernel_size=3, padding=1),
            graph.add("ReLU", "relu2"),
            graph.add("Flatten", "flatten"),
            graph.add("Linear", "fc", out_features=10),
            graph.add("Output", "out"),
        ]
    )
    settings = TrainingSettings(dataset="digits", device="cpu", epochs=1, batch_size=64, lr=1e-3, val_fraction=0.1)
    return Project(graph, "Digits CNN", "", settings)


def tried(qtbot, tmp_path, project: Project):
    """Train ``project`` in the dashboard and open Try it on the run."""
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.resize(1200, 600)
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    assert finished.args[0].status == "finished", finished.args[0].message
    view = dash.tryit
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as first:
        dash.tabs.setCurrentWidget(view)  # builds the model and shows test sample 0
    assert view.model is not None, view.note.text()
    return dash, view, first.args[0]


def test_a_test_sample_shows_its_grad_cam_and_follows_the_next_one(qtbot, tmp_path, monkeypatch):
    dash, view, shown = tried(qtbot, tmp_path, digits_cnn())
    assert view.source.kind == "image" and view.why.isVisible()
    explainer = Explainer(view.source.project, view.model)
    expected = explainer.explain(view.source.x_test[0])
    assert shown.method == "Grad-CAM" and shown.layer == "conv2" and shown.map.shape == (8, 8)
    assert np.allclose(shown.map, expected.map, atol=1e-5) and shown.target == view.predicted_class
    assert not view.why.picture.pixmap().isNull() and "Grad-CAM at conv2" in view.why.caption.text()

    # another test sample: the map follows it, and the GUI thread is not held for the Grad-CAM (which thread
    # explains, not a wall-clock bound of 100 ms, which a busy machine exceeded)
    on_gui_thread: list[bool] = []
    real_explain = Explainer.explain

    def spy(self, *args, **kwargs):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real_explain(self, *args, **kwargs)

    monkeypatch.setattr(Explainer, "explain", spy)
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as second:
        view.sample_spin.setValue(5)
    monkeypatch.setattr(Explainer, "explain", real_explain)
    assert on_gui_thread == [False]  # one explanation, on its own thread
    expected = explainer.explain(view.source.x_test[5])
    assert np.allclose(second.args[0].map, expected.map, atol=1e-5)
    assert not np.allclose(second.args[0].map, shown.map)

    # a drawing is explained too, at the Input size
    view.pad.clear()
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as drawn:
        view.predict(np.ones((3, 8, 8), dtype=np.float32))
    assert drawn.args[0].map.shape == (8, 8)


def test_a_table_row_shows_one_bar_per_named_column(qtbot, tmp_path):
    rows = [f"{k % 5 / 4},{(k * 7) % 11 / 10},{'red' if k % 3 else 'blue'},{k % 2}" for k in range(90)]
    csv = tmp_path / "table.csv"
    csv.write_text("height,weight,colour,target\n" + "\n".join(rows) + "\n")
    project = mlp_project([4], 8, 2, dataset=f"table:{csv}?label=target", epochs=2, batch_size=16)
    dash, view, shown = tried(qtbot, tmp_path, project)
    names = ["height", "weight", "colour = blue", "colour = red"]
    assert view.source.kind == "table" and view.columns == names
    assert shown.method == "integrated gradients" and shown.columns == names and shown.map.shape == (4,)
    assert view.why.pages.currentWidget() is view.why.bars and view.why.bars.names == names
    expected = Explainer(view.source.project, view.model).explain(view.source.x_test[0], columns=names)
    assert list(view.why.bars.values) == pytest.approx(list(expected.map), abs=1e-5)

    # editing a value explains the edited row
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as edited:
        view.feature_spins[0].setValue(3.0)
    x = (torch.tensor([[s.value() for s in view.feature_spins]]) - view.source.mean) / view.source.std
    expected = Explainer(view.source.project, view.model).explain(x[0].float(), columns=names)
    assert list(edited.args[0].map) == pytest.approx(list(expected.map), abs=1e-4)


def test_without_captum_try_it_says_how_to_install_it(qtbot, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_captum(name, *args, **kwargs):
        if name.startswith("captum"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    project = mlp_project([4], 8, 3, dataset="iris", epochs=1, batch_size=16)
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000):
        dash.start_training()
    monkeypatch.setattr(builtins, "__import__", no_captum)
    view = dash.tryit
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as done:
        dash.tabs.setCurrentWidget(view)
    assert done.args[0] is None and view.probs.shape == (3,)  # the prediction itself still works
    assert INSTALL in view.why.caption.text()
