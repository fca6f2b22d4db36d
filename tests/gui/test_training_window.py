"""The dashboard inside the real editor window: docked, editing locked while training, a clean close, and
``--screenshot --train-epochs N`` rendering a finished run."""

from __future__ import annotations

import argparse
import functools
import sys

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from core.cli import EXAMPLES_DIR
from core.training import Trainer
from gui.training import dashboard as dashboard_module
from gui.training import window as window_module

EVERY_BATCH = functools.partial(Trainer, event_interval=0)


def installed(window, tmp_path, epochs: int):
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    dash.trainer_factory = EVERY_BATCH
    window.document.project.training.epochs = epochs  # set up the test, not a user edit to undo
    dash.panel.refresh()
    return dash


@pytest.mark.slow
def test_training_locks_editing_and_closing_stops_the_run(window, qtbot, tmp_path, monkeypatch, qtlog):
    dash = installed(window, tmp_path, epochs=2000)
    assert window.docks["training"].widget() is dash
    assert dash.project is window.document.project and dash.panel.train_button.isEnabled()
    train_action = next(a for a in window.findChildren(type(window.action_map["undo"])) if a.text() == "▶ Train")
    train_action.trigger()  # the toolbar button shows the dashboard and starts
    run = dash.run
    assert run is not None
    qtbot.waitUntil(lambda: dash.event_count.get("batch", 0) >= 3, timeout=30_000)
    assert not window.view.isInteractive() and not window.view.acceptDrops()
    assert not window.palette.isEnabled() and not window.inspector.isEnabled()
    assert not any(window.action_map[name].isEnabled() for name in ("delete", "paste", "open", "new", "undo"))
    assert window.editing_locked

    shown = len(qtlog.records)
    asked = []
    monkeypatch.setattr(window_module, "ask_stop", lambda parent: asked.append(True) or True)
    assert window.close()  # True only when the run's thread ended within the window's stop timeout, 5 s
    assert asked == [True]
    assert not run.is_running() and run.wait(0) and dash.run is None
    assert not window.editing_locked and window.view.isInteractive() and window.palette.isEnabled()
    assert window.action_map["delete"].isEnabled() and not window.action_map["undo"].isEnabled()  # empty stack
    qtbot.wait(50)
    assert [r.message for r in qtlog.records[shown:] if r.type.name in ("QtWarningMsg", "QtCriticalMsg")] == []


def test_the_dashboard_follows_the_open_project(window, qtbot, tmp_path):
    dash = installed(window, tmp_path, epochs=1)
    window.open_example(EXAMPLES_DIR / "spirals.json")
    assert dash.project is window.document.project
    assert dash.panel.dataset.currentData() == "spirals"
    dash.panel.epochs.setValue(4)
    assert window.document.modified  # the settings edit went through the window's undo stack
    window.document.undo_stack.undo()
    assert window.document.project.training.epochs == 30 and dash.panel.epochs.value() == 30


@pytest.mark.slow
def test_screenshot_renders_a_finished_run(qtbot, tmp_path, monkeypatch):
    from gui.shell.app import run_app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_app installs its own; keep pytest's
    monkeypatch.setattr(dashboard_module, "default_runs_dir", lambda: tmp_path / "runs")
    target = tmp_path / "shot.png"
    args = argparse.Namespace(project=None, screenshot=str(target), train_epochs=2)
    assert run_app(args) == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1600, 1000)
    assert len(list((tmp_path / "runs").glob("*/summary.json"))) == 1
    QApplication.processEvents()
