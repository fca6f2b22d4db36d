"""Try it for a regression (issue 26): the predicted number, how far it is from a test sample's true value, and
for two features the test points coloured by value over the value the network predicts there. Before, the points
were coloured as if each rounded target were a class."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
import pytest
import torch

from core.files.built_model import build_model
from core.training import Trainer
from gui.training.dashboard import TrainingDashboard
from tests.core.train_fixtures import mlp_project

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(autouse=True)
def _logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def test_try_a_2d_regression(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(300, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] - 10
    path = tmp_path / "plane.csv"
    path.write_text("a,b,target\n" + "".join(f"{a:.5f},{b:.5f},{t:.5f}\n" for (a, b), t in zip(x, y)))
    project = mlp_project([2], 16, 1, loss="MSELoss", dataset=f"csv:{path}:target", lr=0.02, epochs=20, batch_size=16)
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.resize(1300, 600)
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as finished:
        dash.start_training()
    result = finished.args[0]
    assert result.status == "finished" and result.regression is not None
    results = dash.results  # the window's run: its regression page, not a decision boundary of rounded targets
    assert results.pages.currentWidget() is results.regression and not results.boundary.isVisible()
    assert f"R² <b style='font-size:13pt'>{result.regression.r2:.3f}</b>" in results.summary.text()
    assert results.regression.shown_points == len(dash.dataset.y_test)
    view = dash.tryit
    dash.tabs.setCurrentWidget(view)
    assert view.model is not None and view.source.regression and view.source.kind == "points"

    # test sample 3: the number the run's weights give, and how far from its true value
    view.sample_spin.setValue(3)
    model = build_model(dash.run_project, result.run_dir).module.eval()
    with torch.no_grad():
        expected = float(model(view.source.x_test[3:4]).reshape(-1)[0])
    true = float(view.source.y_test[3])
    text = view.prediction.text()
    assert f"{expected:.4g}</b>" in text and f"off by {abs(expected - true):.3g}" in text
    view.choose_point(0.5, -0.5)  # a clicked point has no true value
    assert "off by" not in view.prediction.text() and view.true_value is None

    # the points by value, one scatter (not one per rounded "class"), over the predicted values
    plot = view.points.getPlotItem()
    scatters = [item for item in plot.items if isinstance(item, pg.ScatterPlotItem) and item is not view.marker]
    assert len(scatters) == 1 and plot.legend is None
    values = view.points.value_map
    assert values.shape == (80, 80)
    assert values[0, -1] > values[-1, 0] + 4  # high where a is high and b low (3a - 2b), low at the other corner
