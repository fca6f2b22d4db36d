"""The Runs list scores a regression run by its R² (issue 26): its "Test acc." column said "–" for every
regression run, so runs could not be compared there."""

from __future__ import annotations

import numpy as np
import pytest

from core.training import Trainer
from gui.training.runs import COLUMNS, RunsView
from tests.core.train_fixtures import mlp_project

SCORE = COLUMNS.index("Test score")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_regression_run_is_scored_by_r2_live_and_read_back(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(200, 2))
    path = tmp_path / "plane.csv"
    path.write_text("a,b,y\n" + "".join(f"{a:.5f},{b:.5f},{3 * a - b:.5f}\n" for a, b in x))
    project = mlp_project([2], 8, 1, loss="MSELoss", dataset=f"csv:{path}:y", lr=0.02, epochs=5, batch_size=16)
    result = Trainer(project, out_dir=tmp_path / "runs").run()
    assert result.status == "finished" and result.regression is not None
    expected = f"R² {result.regression.r2:.3f}"

    live = RunsView()
    qtbot.addWidget(live)
    live.add_result(result, project)
    assert live.table.item(0, SCORE).text() == expected

    saved = RunsView()  # the run read back from its folder (summary.json)
    qtbot.addWidget(saved)
    saved.set_project(project, tmp_path / "runs")
    assert saved.table.rowCount() == 1 and saved.table.item(0, SCORE).text() == expected
