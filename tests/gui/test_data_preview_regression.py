"""A two-feature regression set is drawn coloured by its target with one legend entry that says so; before, the
targets were rounded to whole numbers and listed in the legend as classes (-10 ... 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.files.project import load
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_a_regression_scatter_is_coloured_by_value_not_listed_as_classes(qtbot, tmp_path) -> None:
    rng = np.random.default_rng(0)
    rows = ["a,b,height"] + [f"{a:.3f},{b:.3f},{-10 + 10 * a * b:.3f}" for a, b in rng.random((120, 2))]
    path = tmp_path / "heights.csv"
    path.write_text("\n".join(rows) + "\n")
    project = load(EXAMPLES / "spirals.json")
    project.training.dataset = f"table:{path}?label=height"
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    assert dash.dataset.task == "regression" and dash.panel.preview.kind == "scatter"
    legend = dash.panel.preview.scatter.getPlotItem().legend
    names = [label.text for _sample, label in legend.items]
    assert len(names) == 1 and names[0].startswith("value: dark -9.99 → yellow"), names
    assert "classes" not in dash.panel.preview.info.text()
