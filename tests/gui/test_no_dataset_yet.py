"""A project with no dataset yet (what `torchcanvas import` leaves, tester's F12 in the window): the Data box says
to choose one, in a few words, not a red 'could not be loaded' with the list of every source and a blank name."""

from __future__ import annotations

from pathlib import Path

from core.files.project import load
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_a_project_without_a_dataset_is_asked_for_one(qtbot) -> None:
    project = load(EXAMPLES / "digits_mlp.json")
    project.training.dataset = ""
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(project)
    info = dash.panel.preview.info
    qtbot.waitUntil(lambda: "dataset" in info.text().lower(), timeout=10_000)
    text = info.text()
    assert "No dataset is chosen yet" in text
    assert "could not be loaded" not in text and "Use one of" not in text and "#b00020" not in text
    reason = dash.panel.blocked_reason()
    assert "Choose a dataset under 1. Data first" in reason, reason
    assert "could not be loaded" not in reason
