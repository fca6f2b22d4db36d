"""Fitting the training dashboard into the editor's main window: its dock, the Train action, the close guard,
locking the canvas while a run goes, and the big view the screenshots and benchmarks use."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QToolBar, QWidget

from gui.training.dashboard import TrainingDashboard
from gui.training.host import DashboardHost

if TYPE_CHECKING:
    from core.training.events import TrainResult


class _CloseGuard(QObject):
    """Sees the window's close event first: asks and stops a running training, or keeps the window open."""

    def __init__(self, dashboard: TrainingDashboard, window: QWidget) -> None:
        super().__init__(window)
        self.dashboard = dashboard

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and not confirm_close(self.dashboard):
            event.ignore()
            return True
        return False


def confirm_close(dashboard: TrainingDashboard) -> bool:
    """Ask whether to stop a running training before the window closes; stop it if so."""
    if dashboard.run is None:
        return True
    if not ask_stop(dashboard):
        return False
    return dashboard.stop(timeout=5.0)


def ask_stop(parent: QWidget) -> bool:
    """'A training run is in progress. Stop it and close?' (tests replace this)."""
    answer = QMessageBox.question(
        parent,
        "Training is running",
        "A training run is still in progress. Stop it and close the window?\n\n"
        "The curves so far are kept in the run folder.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def install(host: DashboardHost) -> TrainingDashboard:
    """Dock the dashboard into the editor's main window (beside the code view) and wire it to the document."""
    window, dashboard = host.window, TrainingDashboard()
    dock = host.add_dock("Training", dashboard, Qt.DockWidgetArea.BottomDockWidgetArea, "training")
    if host.code_dock is not None:
        window.tabifyDockWidget(host.code_dock, dock)
    if host.toolbar is not None:
        _add_train_action(host.toolbar, window, dashboard, dock)
    if host.document is not None:
        dashboard.set_document(host.document)
    window.installEventFilter(_CloseGuard(dashboard, window))
    dashboard.running_changed.connect(host.lock_editing)
    dashboard.running_changed.connect(lambda running: show_large(dashboard) if running else None)
    # No torch here: the first run imports it (and torch._dynamo) in its own thread (see gui.training.worker),
    # so an idle window holds ~500-800 MB less and the GUI thread never waits on those imports.
    return dashboard


def _add_train_action(toolbar: QToolBar, window: QWidget, dashboard: TrainingDashboard, dock: QDockWidget) -> None:
    """The toolbar's ▶ Train shows the dashboard and starts a run; it is on exactly when the panel's Train is."""
    train = QAction("▶ Train", window)
    train.setObjectName("train_action")

    def show_and_train() -> None:
        dock.show()
        dock.raise_()
        dashboard.start_training()

    train.triggered.connect(show_and_train)
    toolbar.addSeparator()
    toolbar.addAction(train)
    dashboard.panel.availability_changed.connect(lambda ok, why: follow_train_button(train, ok, why))
    follow_train_button(train, dashboard.panel.train_button.isEnabled(), dashboard.panel.blocked_reason())


def follow_train_button(action: QAction, available: bool, reason: str) -> None:
    """The toolbar's Train is on exactly when the panel's is, and says why not as its tooltip."""
    action.setEnabled(available)
    tip = "Show the training dashboard and train the network on its dataset" if available else reason
    action.setToolTip(tip)
    action.setStatusTip(tip)


def show_large(dashboard: TrainingDashboard) -> None:
    """Bring the Training dock to the front and give it most of the bottom area (curves need room)."""
    dock = dashboard.parentWidget()
    if not isinstance(dock, QDockWidget):
        return
    window = dock.parentWidget()
    if not isinstance(window, QMainWindow):
        return
    if dock.isVisible() and not dock.visibleRegion().isEmpty():
        return  # already in view (the user pressed its Train button): no relayout of the whole window
    dock.show()
    dock.raise_()
    area, tabbed = window.dockWidgetArea(dock), window.tabifiedDockWidgets(dock)
    beside = [
        d
        for d in window.findChildren(QDockWidget)
        if d is not dock and d not in tabbed and d.isVisible() and window.dockWidgetArea(d) == area
    ]
    if beside:
        window.resizeDocks([*beside, dock], [260] * len(beside) + [window.width()], Qt.Orientation.Horizontal)
    window.resizeDocks([dock], [int(window.height() * 0.58)], Qt.Orientation.Vertical)


def train_for_screenshot(dashboard: TrainingDashboard, epochs: int, timeout: float = 600.0) -> bool:
    """Train the open project for ``epochs`` epochs and wait, so ``--screenshot`` shows a finished run."""
    import time

    project = dashboard.project
    if project is None:
        return False
    dashboard.window().show()  # docks only take their sizes in a shown window (offscreen here)
    QApplication.processEvents()
    show_large(dashboard)
    dashboard.refresh_dataset()
    project.training.epochs = int(epochs)  # a setting for this one rendering, not a user edit to undo
    dashboard.panel.refresh()
    done: list[TrainResult] = []
    dashboard.run_finished.connect(done.append)
    if dashboard.start_training() is None:
        print(f"torchcanvas: cannot train: {dashboard.panel.reason.text()}", file=sys.stderr)
        return False
    deadline = time.monotonic() + timeout
    while not done and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    if not done:
        dashboard.stop()
    for _ in range(5):
        QApplication.processEvents()
    return bool(done) and done[0].status == "finished"
