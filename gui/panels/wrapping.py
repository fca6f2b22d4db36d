"""A scroll area for text that wraps: it scrolls down, never sideways, and gives wrapped text its full height.

QScrollArea sizes its widget from the height the widget wants at its *preferred* width; in a narrower column a
message wraps onto more lines than that, and its last lines were cut off. ``WrappingScroll`` asks the widget
for its height at the width it really has, whenever the widget's layout changes or the area is resized.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QWidget


class WrappingScroll(QScrollArea):
    """A scroll area whose content is as tall as its wrapped text needs at the viewport's width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self, self._fit)  # dropped when the scroll area is deleted first
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        height = widget.heightForWidth(self.viewport().width())
        if height > 0 and height != widget.minimumHeight():
            widget.setMinimumHeight(height)
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        """As tall as the content (up to the maximum height), so a short message leaves no empty band."""
        hint = super().sizeHint()
        widget = self.widget()
        if widget is not None and widget.minimumHeight() > 0:
            hint.setHeight(min(widget.minimumHeight() + 2 * self.frameWidth(), self.maximumHeight()))
        return hint

    def minimumSizeHint(self) -> QSize:
        """No taller than the content: layouts take the larger of the size hint and this."""
        hint = super().minimumSizeHint()
        hint.setHeight(min(hint.height(), self.sizeHint().height()))
        return hint


def let_wrap(label: QLabel) -> QLabel:
    """Let a word-wrapped label be as narrow as its column (it then grows in height): its width no longer
    widens the dock. The height-for-width flag is kept, or layouts would give it only one line's height."""
    label.setWordWrap(True)
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    label.setSizePolicy(policy)
    return label
