"""The editor shows its window before it docks the training dashboard, whose imports (torch, pyqtgraph, the dynamo
warm-up) took seconds on a small machine while the window was not painted yet; the dashboard still docks right
after, with the toolbar's Train."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from gui.shell import first_paint
from gui.shell.app import run_app
from gui.shell.first_paint import after_first_paint
from gui.shell.mainwindow import MainWindow


class PaintSpy(QObject):
    """Notes, at each paint of the main window, whether the dashboard was docked by then."""

    def __init__(self) -> None:
        super().__init__()
        self.docked_at_paint: list[bool] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            window = watched.window()
            if isinstance(window, MainWindow):
                self.docked_at_paint.append(window.training_dashboard is not None)
        return False


def test_the_window_is_painted_before_the_training_dashboard_docks(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_app installs its own; keep pytest's
    spy = PaintSpy()
    qapp.installEventFilter(spy)
    qapp.setQuitOnLastWindowClosed(False)  # closing the window at the end must not end the next tests' loops
    windows: list[MainWindow] = []
    waited = [0]

    def quit_once_docked() -> None:
        windows[:] = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        waited[0] += 50
        if (windows and windows[0].training_dashboard is not None) or waited[0] > 60_000:
            qapp.quit()
        else:
            QTimer.singleShot(50, quit_once_docked)

    QTimer.singleShot(50, quit_once_docked)
    try:
        assert run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None)) == 0
    finally:
        qapp.removeEventFilter(spy)
    window = windows[0]
    try:
        assert spy.docked_at_paint and spy.docked_at_paint[0] is False  # before: the dashboard docked first
        assert window.training_dashboard is not None and "training" in window.docks
        assert window.findChild(QAction, "train_action") is not None
    finally:
        window.document.undo_stack.setClean()
        window.close()
        qapp.setQuitOnLastWindowClosed(True)


def test_work_after_the_first_paint_still_runs_when_no_paint_comes(qtbot, monkeypatch):
    monkeypatch.setattr(first_paint, "FIRST_PAINT_WAIT_MS", 50)
    hidden = QWidget()
    qtbot.addWidget(hidden)
    calls: list[str] = []
    after_first_paint(hidden, lambda: calls.append("ran"))
    qtbot.waitUntil(lambda: calls == ["ran"], timeout=2000)
    qtbot.wait(100)
    assert calls == ["ran"]  # once


def test_work_after_the_first_paint_runs_once_after_it(qtbot):
    shown = QWidget()
    qtbot.addWidget(shown)
    calls: list[bool] = []
    after_first_paint(shown, lambda: calls.append(shown.isVisible()))
    QApplication.processEvents()
    assert calls == []  # not before the window is shown and painted
    shown.show()
    qtbot.waitUntil(lambda: calls == [True], timeout=2000)
    shown.update()
    qtbot.wait(50)
    assert calls == [True]
