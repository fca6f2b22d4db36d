"""What it learned: after a run, the test set from the last hidden layer in 2-D, coloured by class, wrong ones
marked, a click showing the sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from core.datasets import load_dataset
from core.files.project import load
from core.inspect.projection import project_split
from core.training import Trainer
from gui.inspect.projection_view import ProjectionView
from gui.training.dashboard import TrainingDashboard

pytestmark = pytest.mark.slow  # each test trains for a second or two
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture(scope="module")
def trained():
    project = load(EXAMPLES / "digits_mlp.json")
    project.training.epochs, project.training.device = 2, "cpu"
    data = load_dataset("digits", input_shape=(1, 8, 8))
    trainer = Trainer(project, data=data, save=False)
    trainer.run()
    return project, trainer.model, data


def test_the_points_are_the_projection_with_wrong_ones_marked_and_a_click_shows_the_sample(qtbot, trained) -> None:
    project, model, data = trained
    view = ProjectionView()
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.projected, timeout=60_000) as done:
        view.set_run(project, model, data)
    shown = done.args[0]
    expected = project_split(project, model, data)
    assert np.allclose(shown.points, expected.points, atol=1e-4)
    spots = view.scatter.points()
    assert len(spots) == len(data.x_test)
    crosses = [s for s in spots if s.symbol() == "x"]
    assert len(crosses) == int(expected.wrong.sum()) > 0
    row = int(np.flatnonzero(expected.wrong)[0])
    with qtbot.waitSignal(view.why.explained, timeout=60_000) as why:
        view.choose(row)
    if importlib.util.find_spec("captum") is not None:  # where it looked: one number per pixel of the 8 x 8 digit
        assert why.args[0].method == "integrated gradients" and why.args[0].map.shape == (8, 8)
    else:
        assert 'pip install "torchcanvas[explain]"' in view.why.caption.text()
    index = int(expected.indices[row])
    words = f"Test sample {index}: class {int(data.y_test[index])}, predicted {int(expected.predicted[row])} (wrong)"
    assert words in view.detail.text()
    assert not view.picture.pixmap().isNull()  # digits are pictures
    assert "wrong" in view.legend.text()


def test_tsne_on_request_and_a_run_without_a_model_is_said(qtbot, trained) -> None:
    project, model, data = trained
    view = ProjectionView()
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.projected, timeout=60_000):
        view.set_run(project, model, data)
    with qtbot.waitSignal(view.projected, timeout=120_000) as done:
        view.tsne_button.click()
    assert done.args[0].method == "t-SNE" and "t-SNE of 180 test samples" in view.status.text()
    view.set_run(project, None, data)
    assert "no trained network" in view.status.text() and not view.pca_button.isEnabled()


def test_the_dashboard_projects_the_run_when_it_ends(qtbot, tmp_path) -> None:
    project = load(EXAMPLES / "spirals.json")
    project.training.epochs = 3
    dash = TrainingDashboard(trainer_factory=Trainer)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000):
        dash.start_training()
    assert dash.projection.projection is None  # not projected while nobody looks
    with qtbot.waitSignal(dash.projection.projected, timeout=60_000) as done:
        dash.tabs.setCurrentWidget(dash.projection)
    assert done.args[0] is not None, dash.projection.status.text()
    assert len(dash.projection.scatter.points()) == len(done.args[0].points) > 0
