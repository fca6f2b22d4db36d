"""Runs > "Compare with Keras": the same project trained with Keras 3 off the GUI thread, both runs overlaid in
the Runs list and their figures side by side; a network Keras cannot express is refused with the one message."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pytest

from core.files.project import load
from core.training import Trainer
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture(autouse=True)
def _logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def _dashboard(qtbot, tmp_path, example: str, **training) -> TrainingDashboard:
    project = load(EXAMPLES / example)
    for key, value in training.items():
        setattr(project.training, key, value)
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.resize(1400, 800)
    return dash


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("keras") is None, reason="keras is not installed: pip install -e '.[keras]'"
)
def test_compare_with_keras_overlays_both_runs_and_fills_the_table(qtbot, tmp_path):
    """A real Keras run in a child process (~8 s on 2 cores: most of it starting Python, torch and Keras)."""
    dash = _dashboard(qtbot, tmp_path, "spirals.json", epochs=3)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000):
        dash.start_training()
    runs = dash.runs
    lines: list[str] = []
    with qtbot.waitSignal(runs.keras.finished_run, timeout=120_000) as blocker:
        assert runs.keras.start(runs.project)
        assert not runs.keras.button.isEnabled()  # one comparison at a time; the GUI thread is free meanwhile
        runs.keras.thread_.line.connect(lines.append)
    keras_run = blocker.args[0]
    qtbot.waitUntil(lambda: runs.keras.button.isEnabled(), timeout=10_000)
    assert [r["epoch"] for r in keras_run.history] == [1, 2, 3]
    assert [r.name.split(",")[0] for r in runs.records][-1] == "Keras 3"
    assert [len(c.getData()[0]) for c in runs.plot.getPlotItem().listDataItems()] == [3, 3]  # both overlaid
    table = runs.keras.table_rows()
    assert [row[0].split(" ")[0] for row in table] == ["PyTorch", "Keras"]
    assert all(row[1].endswith("%") and row[3].endswith(" s") and row[4] != "–" for row in table)
    assert "test accuracy" in runs.keras.status.text()


def test_compare_with_keras_names_the_layers_keras_lacks_and_starts_nothing(qtbot, tmp_path):
    dash = _dashboard(qtbot, tmp_path, "resnet18.json")
    assert not dash.runs.keras.start(dash.runs.project)
    assert dash.runs.keras.thread_ is None and dash.runs.keras.button.isEnabled()
    assert "5 layers have no Keras translation" in dash.runs.keras.status.text()
    assert "layer1 (Block)" in dash.runs.keras.status.toolTip()
