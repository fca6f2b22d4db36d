"""The dashboard drives the real core Trainer on tiny built-in datasets: finish, stop, pause, close, NaN."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from core.files.project import load
from core.training import Trainer
from gui.training import window as window_module
from gui.training.dashboard import TrainingDashboard
from gui.training.host import DashboardHost
from gui.training.window import install

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
EVERY_BATCH = functools.partial(Trainer, event_interval=0)  # one event per batch: exact point counts


@pytest.fixture(autouse=True)
def _quiet_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def make_dashboard(qtbot, tmp_path, example: str = "spirals.json", factory=EVERY_BATCH, **training):
    project = load(EXAMPLES / example)
    for key, value in training.items():
        setattr(project.training, key, value)
    dash = TrainingDashboard(trainer_factory=factory)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.resize(1400, 800)
    return dash


def finish(qtbot, dash, timeout: int = 60_000):
    with qtbot.waitSignal(dash.run_finished, timeout=timeout) as blocker:
        dash.start_training()
    return blocker.args[0]


def wait_for_steps(qtbot, dash, steps: int = 3) -> None:
    qtbot.waitUntil(lambda: dash.event_count.get("batch", 0) >= steps, timeout=30_000)


def wait_for_pause(qtbot, dash) -> None:
    """Until the trainer says it has paused: every batch event before it has arrived then (a group goes out
    with the notice, in order), and no other comes until Resume; no guess at how long the batch in flight takes."""
    qtbot.waitUntil(lambda: "Paused." in dash.panel.log.toPlainText().splitlines(), timeout=30_000)


@pytest.mark.slow
def test_run_finishes_and_plots_hold_every_point(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, epochs=3)
    result = finish(qtbot, dash)
    assert result.status == "finished", result.message
    batches = len(range(0, 420, 32))  # spirals: 600 samples, 20% validation, 10% test -> 420 to train
    counts = dash.plots.point_counts()
    assert counts["training loss / epoch"] == 3
    assert counts["validation loss / epoch"] == 3
    assert counts["validation accuracy"] == 3
    assert counts["batch loss"] == 3 * batches == counts["batch loss (smoothed)"]
    lr = dash.plots.lr.series
    assert counts["learning rate"] == 2 and list(lr.x) == [1 / batches, 3.0]  # a constant rate: one segment
    assert list(lr.y) == [0.01, 0.01]
    assert dash.plots.drawn_counts() == counts  # everything reached the screen
    assert dash.event_count["epoch"] == 3
    log_lines = [line for line in dash.panel.log.toPlainText().splitlines() if line.startswith("Epoch ")]
    assert len(log_lines) == 3 and "val_loss:" in log_lines[0] and log_lines[-1].startswith("Epoch 3/3")
    assert dash.panel.progress.value() == dash.panel.progress.maximum()
    assert "test accuracy" in dash.panel.progress.text()
    assert not dash.is_running() and dash.panel.train_button.isEnabled()
    assert (result.run_dir / "summary.json").exists()


@pytest.mark.slow
def test_stop_returns_within_two_seconds_and_leaves_no_thread(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, epochs=2000)
    run = dash.start_training()
    wait_for_steps(qtbot, dash)
    assert dash.stop() is True  # True only when the thread ended within stop's timeout, 2 s
    assert not run.is_running() and run.wait(0)
    assert dash.run is None and dash.last_result.status == "stopped"
    assert "Stopped" in dash.panel.progress.text()
    assert dash.panel.train_button.isEnabled()


@pytest.mark.slow
def test_pause_holds_the_step_count_still(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, epochs=2000)
    dash.start_training()
    wait_for_steps(qtbot, dash)
    dash.pause()
    assert not dash.panel.resume_button.isHidden() and dash.panel.pause_button.isHidden()
    wait_for_pause(qtbot, dash)
    held = dash.event_count.get("batch", 0)
    qtbot.wait(300)
    assert dash.event_count.get("batch", 0) == held
    assert dash.run.trainer.is_paused
    dash.resume()
    qtbot.waitUntil(lambda: dash.event_count.get("batch", 0) > held, timeout=10_000)
    assert dash.stop()


@pytest.mark.slow
def test_stop_while_paused(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, epochs=2000)
    dash.start_training()
    wait_for_steps(qtbot, dash)
    dash.pause()
    wait_for_pause(qtbot, dash)
    assert dash.stop()  # a paused loop wakes to see the stop: the thread ends within stop's timeout, 2 s
    assert dash.last_result.status == "stopped"


def bare_host(window: QMainWindow) -> DashboardHost:
    """Any main window can hold the dashboard: a dock of its own, editing locked by disabling the centre."""

    def add_dock(title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, window)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        window.addDockWidget(area, dock)
        return dock

    return DashboardHost(window, None, add_dock, lambda running: window.centralWidget().setEnabled(not running))


@pytest.mark.slow
def test_close_during_training_asks_then_stops_cleanly(qtbot, tmp_path, monkeypatch, qtlog):
    window = QMainWindow()
    window.setCentralWidget(QWidget())
    qtbot.addWidget(window)
    dash = install(bare_host(window))
    dash.runs_root = tmp_path / "runs"
    project = load(EXAMPLES / "spirals.json")
    project.training.epochs = 2000
    dash.trainer_factory = EVERY_BATCH
    dash.set_project(project)
    window.show()
    run = dash.start_training()
    wait_for_steps(qtbot, dash)
    assert not window.centralWidget().isEnabled()  # editing is locked while the run is active (a bare window)

    shown = len(qtlog.records)  # the offscreen plugin warns once about size hints on show(): not ours
    monkeypatch.setattr(window_module, "ask_stop", lambda parent: False)
    assert not window.close()  # "No": the window stays and training goes on
    assert window.isVisible() and dash.is_running()

    monkeypatch.setattr(window_module, "ask_stop", lambda parent: True)
    assert window.close()  # True only when the run's thread ended within the window's stop timeout, 5 s
    assert not run.is_running() and run.wait(0)
    assert dash.run is None and window.centralWidget().isEnabled()
    qtbot.wait(50)
    warnings = [r.message for r in qtlog.records[shown:] if r.type.name in ("QtWarningMsg", "QtCriticalMsg")]
    assert warnings == []


@pytest.mark.slow
def test_nan_run_shows_a_plain_message(qtbot, tmp_path):
    dash = make_dashboard(qtbot, tmp_path, epochs=3, lr=1e6, optimizer="SGD")
    result = finish(qtbot, dash)
    assert result.status == "failed"
    assert "loss became" in result.message and "learning rate" in result.message
    assert "Traceback" not in result.message
    assert result.message in dash.panel.log.toPlainText()
    assert result.message in dash.results.summary.text()
    assert dash.tabs.currentWidget() is dash.results
    assert dash.panel.train_button.isEnabled()


@pytest.mark.slow
def test_an_unexpected_error_is_a_message_and_the_traceback_goes_to_a_file(qtbot, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("something deep inside broke")

    dash = make_dashboard(qtbot, tmp_path, factory=broken)
    result = finish(qtbot, dash)
    assert result.status == "failed"
    assert "unexpected error" in result.message and "Traceback" not in result.message
    log_file = tmp_path / "logs" / "training-errors.log"
    assert "Traceback" in log_file.read_text() and "something deep inside broke" in log_file.read_text()
