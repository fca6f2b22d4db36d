"""Work that waits until the main window is on the screen.

Docking the training dashboard imports torch: seconds on a small machine, during which a window not yet painted
is a grey or missing rectangle. ``after_first_paint`` runs such work once the window has been painted.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

FIRST_PAINT_WAIT_MS = 3000  # a window that the platform never exposes still gets the work done after this


class _FirstPaint(QObject):
    """Calls ``then`` once, right after the first paint of ``window`` (or after ``FIRST_PAINT_WAIT_MS`` if no
    paint comes: a window the platform never exposes still gets its dashboard)."""

    def __init__(self, window: QWidget, then: Callable[[], object]) -> None:
        super().__init__(window)
        self.target, self.then, self.done = window, then, False
        self.app = QApplication.instance()  # there is one: the window exists
        if self.app is not None:
            self.app.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, self.run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) and watched.window() is self.target:
            if self.app is not None:
                self.app.removeEventFilter(self)
            QTimer.singleShot(0, self.run)  # once this paint pass is over
        return False

    def run(self) -> None:
        if not self.done:
            self.done = True
            if self.app is not None:
                self.app.removeEventFilter(self)
            self.then()


def after_first_paint(window: QWidget, then: Callable[[], object]) -> None:
    """Run ``then`` once ``window`` is on the screen: work that would keep the user waiting for the window."""
    _FirstPaint(window, then)
