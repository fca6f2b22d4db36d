"""Real mouse and drag-and-drop events for the canvas, addressed in scene coordinates."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from gui.canvas.view import GraphView

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def viewport_point(view: GraphView, scene_pos: QPointF) -> QPoint:
    return view.mapFromScene(scene_pos)


def send_mouse(view: GraphView, kind: QEvent.Type, scene_pos: QPointF, button=LEFT, buttons=LEFT, modifiers=None):
    local = QPointF(viewport_point(view, scene_pos))
    global_pos = QPointF(view.viewport().mapToGlobal(local.toPoint()))
    event = QMouseEvent(kind, local, global_pos, button, buttons, modifiers or Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view: GraphView, start: QPointF, end: QPointF, steps: int = 6, button=LEFT) -> None:
    """Press at ``start``, move in ``steps`` steps, release at ``end`` (all scene coordinates)."""
    send_mouse(view, QEvent.Type.MouseButtonPress, start, button, button)
    for i in range(1, steps + 1):
        t = i / steps
        p = QPointF(start.x() + (end.x() - start.x()) * t, start.y() + (end.y() - start.y()) * t)
        send_mouse(view, QEvent.Type.MouseMove, p, NONE, button)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, button, NONE)


def click(view: GraphView, pos: QPointF, modifiers=None) -> None:
    send_mouse(view, QEvent.Type.MouseButtonPress, pos, LEFT, LEFT, modifiers)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos, LEFT, NONE, modifiers)


def drop_mime(view: GraphView, mime, scene_pos: QPointF) -> bool:
    """Deliver a drag-enter, drag-move and drop of ``mime`` at ``scene_pos``; True when the drop was accepted."""
    point = QPointF(viewport_point(view, scene_pos))
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(point.toPoint(), action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(point.toPoint(), action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), move)
    drop = QDropEvent(point, action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    return drop.isAccepted()
