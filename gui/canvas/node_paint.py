"""How a node box is drawn: shadow (and the stacked copies of a repeated block), body, coloured header, outline,
name and type, parameter lines, the output-shape line and the badges. A frozen node (``trainable`` off) is iced:
a pale blue hatched body, a greyed header and a "frozen" tag with a snowflake on its bottom edge.

Each part is one function of the painter and the ``NodeItem`` (read only), in the order ``paint_node`` calls
them; what the box says and how big it is lives in ``gui.canvas.node_text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from gui import style
from gui.canvas.node_text import BODY_POINTS, NAME_POINTS, SHAPE_POINTS, TYPE_POINTS, name_room, text_width, type_room

if TYPE_CHECKING:
    from gui.canvas.items import NodeItem

RADIUS = 8  # the corners of the box
ICE = QColor("#e3effb")  # a frozen node's body
ICE_LINES = QColor("#9cc3ea")  # its hatching, outline of the tag and the snowflake
ICE_DARK = QColor("#2f6ea8")  # the tag's text


def paint_node(painter: QPainter, item: NodeItem) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    rect = QRectF(0, 0, style.NODE_WIDTH, item.height)
    color = style.category_color(item.category)
    if item.frozen:
        color = _greyed(color)
    _shadow_and_stack(painter, rect, item.repeat)
    _body_and_header(painter, rect, color, item.frozen)
    _outline(painter, rect, item)
    _header_text(painter, item)
    y = _param_lines(painter, item.lines)
    if item.outputs or item.layer == "Output":
        _shape_line(painter, item, y)
    if item.repeat > 1:
        _repeat_badge(painter, rect, item.repeat, color)
    if item.frozen:
        _frozen_tag(painter, rect)
    if item.error or item.warning:
        _problem_badge(painter, style.ERROR if item.error else style.WARNING)


def _shadow_and_stack(painter: QPainter, rect: QRectF, repeat: int) -> None:
    """A soft shadow; a repeated block's copies peek out behind the box."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 28))
    painter.drawRoundedRect(rect.translated(2, 3), RADIUS, RADIUS)
    if repeat > 1:
        for offset in (8, 4):
            painter.setPen(QPen(style.NODE_BORDER, 1))
            painter.setBrush(style.NODE_FILL)
            painter.drawRoundedRect(rect.translated(offset, -offset), RADIUS, RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)


def _greyed(color: QColor) -> QColor:
    """The category's colour half way to a cold slate grey: still recognisable, visibly not live."""
    slate = QColor("#7b8a99")
    return QColor(
        (color.red() + slate.red()) // 2, (color.green() + slate.green()) // 2, (color.blue() + slate.blue()) // 2
    )


def _body_and_header(painter: QPainter, rect: QRectF, color: QColor, frozen: bool = False) -> None:
    """The white body (ice blue and hatched when frozen) and the header in the category's colour (rounded at the
    top only)."""
    painter.setBrush(ICE if frozen else style.NODE_FILL)
    painter.drawRoundedRect(rect, RADIUS, RADIUS)
    if frozen:
        painter.setBrush(QBrush(ICE_LINES, Qt.BrushStyle.BDiagPattern))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
    header = QPainterPath()
    header.addRoundedRect(QRectF(0, 0, rect.width(), style.HEADER_HEIGHT + 8), RADIUS, RADIUS)
    clip = QPainterPath()
    clip.addRect(QRectF(0, 0, rect.width(), style.HEADER_HEIGHT))
    painter.setBrush(color)
    painter.drawPath(header.intersected(clip))


def _outline_pen(item: NodeItem) -> QPen:
    """Red for an error, blue when selected, dashed amber for a warning, else the plain border."""
    if item.error:
        return QPen(style.ERROR, 2.5)
    if item.isSelected():
        return QPen(style.SELECTED, 2.5)
    if item.warning:
        return QPen(style.WARNING, 1.5, Qt.PenStyle.DashLine)
    return QPen(style.NODE_BORDER, 1)


def _outline(painter: QPainter, rect: QRectF, item: NodeItem) -> None:
    painter.setPen(_outline_pen(item))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(rect, RADIUS, RADIUS)
    if item.isSelected() and item.error:  # the red outline stays; a dashed ring says it is selected
        painter.setPen(QPen(style.SELECTED, 1.5, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 10, 10)


def _header_text(painter: QPainter, item: NodeItem) -> None:
    """The name (bold) on the left, the layer type on the right where there is room for it."""
    w = style.NODE_WIDTH
    painter.setPen(QColor("white"))
    room = type_room(item.name, item.layer)
    if room:
        type_font = style.font(TYPE_POINTS)
        painter.setFont(type_font)
        painter.drawText(
            QRectF(w - 10 - room, 0, room, style.HEADER_HEIGHT),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            QFontMetricsF(type_font).elidedText(item.layer, Qt.TextElideMode.ElideRight, room),
        )
    name_font = style.font(NAME_POINTS, bold=True)
    painter.setFont(name_font)
    name = QFontMetricsF(name_font).elidedText(item.name, Qt.TextElideMode.ElideRight, name_room(item.name, item.layer))
    painter.drawText(
        QRectF(10, 0, w - 20, style.HEADER_HEIGHT), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
    )


def _param_lines(painter: QPainter, lines: list[str]) -> float:
    """The key parameter lines under the header; returns where the next line goes."""
    y = style.HEADER_HEIGHT + 6
    body_font = style.font(BODY_POINTS)
    metrics = QFontMetricsF(body_font)
    painter.setFont(body_font)
    painter.setPen(style.MUTED)
    for line in lines:
        text = metrics.elidedText(line, Qt.TextElideMode.ElideRight, text_width())
        painter.drawText(QRectF(12, y, style.NODE_WIDTH - 24, style.LINE_HEIGHT), Qt.AlignmentFlag.AlignVCenter, text)
        y += style.LINE_HEIGHT
    return y


def _shape_line(painter: QPainter, item: NodeItem, y: float) -> None:
    """The output shape, or in red what kind of problem the node has."""
    painter.setFont(style.font(SHAPE_POINTS, bold=True))
    if item.error:
        painter.setPen(style.ERROR)
        text = item.status_text or "shape error"
    else:
        painter.setPen(style.TEXT)
        text = f"out {item.shape_text}" if item.shape_text else "out ?"
    painter.drawText(QRectF(12, y, style.NODE_WIDTH - 24, style.LINE_HEIGHT), Qt.AlignmentFlag.AlignVCenter, text)


def _repeat_badge(painter: QPainter, rect: QRectF, repeat: int, color: QColor) -> None:
    """The ×N of a repeated block, on the bottom edge at the right, clear of the text."""
    badge_font = style.font(9, bold=True)
    text = f"×{repeat}"
    width = QFontMetricsF(badge_font).horizontalAdvance(text) + 12
    badge_rect = QRectF(rect.width() - width - 10, rect.height() - 8, width, 16)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(badge_rect, 8, 8)
    painter.setPen(QColor("white"))
    painter.setFont(badge_font)
    painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, text)


def _frozen_tag(painter: QPainter, rect: QRectF) -> None:
    """A "frozen" tag with a snowflake on the bottom edge at the left (the ×N of a repeat sits on the right)."""
    tag_font = style.font(9, bold=True)
    text = "frozen"
    width = QFontMetricsF(tag_font).horizontalAdvance(text) + 32
    tag = QRectF(10, rect.height() - 8, width, 16)
    painter.setPen(QPen(ICE_LINES, 1.2))
    painter.setBrush(QColor("white"))
    painter.drawRoundedRect(tag, 8, 8)
    center = QPointF(tag.left() + 11, tag.center().y())
    painter.setPen(QPen(ICE_DARK, 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for angle in (0.0, 60.0, 120.0):  # three strokes through the centre: a six-armed snowflake
        line = QLineF.fromPolar(5.5, angle)
        painter.drawLine(center - line.p2(), center + line.p2())
    painter.setFont(tag_font)
    painter.drawText(tag.adjusted(20, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)


def _problem_badge(painter: QPainter, color: QColor) -> None:
    """The round "!" on the top right corner of a node with an error or a warning."""
    painter.setPen(QPen(QColor("white"), 1.5))
    painter.setBrush(color)
    center = QPointF(style.NODE_WIDTH - 2, -2)
    painter.drawEllipse(center, 9, 9)
    painter.setFont(style.font(9, bold=True))
    painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18), Qt.AlignmentFlag.AlignCenter, "!")
