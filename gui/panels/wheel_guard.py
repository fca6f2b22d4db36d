"""Lists and number fields inside a scrolling form take the mouse wheel only when they have the focus.

A QComboBox or QSpinBox changes its value on the wheel even unfocused, so scrolling a long form with the
pointer passing over the optimizer list changed the optimizer instead of scrolling. Guarded, such a field takes
the focus on a click or Tab only (``Qt.StrongFocus``), and a wheel turn over it while it has none goes on to the
scroll area, as in browsers and most form-heavy desktop apps.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget


class _WheelNeedsFocus(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is None:
            event.ignore()  # not taken: Qt offers a real wheel turn to the parents
            return True
        # handed to the scroll area itself: Qt offers only a real (spontaneous) wheel turn to the parents, and the
        # field's own parents in the area (the form, a group box) would not scroll anything
        QApplication.sendEvent(area.viewport(), event)
        event.accept()
        return True


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def wheel_needs_focus(root: QWidget) -> None:
    """Guard every list and number field inside ``root`` (call it again after adding fields)."""
    guard = root.findChild(_WheelNeedsFocus, "wheel_guard")
    if guard is None:
        guard = _WheelNeedsFocus(root)
        guard.setObjectName("wheel_guard")
    fields: list[QWidget] = [*root.findChildren(QComboBox), *root.findChildren(QAbstractSpinBox)]
    for field in fields:
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(guard)  # installing twice is harmless: Qt keeps one
