"""What a node box says and how big: the lines of its key parameters, a block's lines, the room its name and
type get, and label fonts that still fit when the view is zoomed out. Drawing stays in ``gui.canvas.items``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QFont, QFontMetricsF, QPainter

from core.model.catalog import LAYERS
from core.model.node import Node
from gui import style

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo

MAX_PARAM_LINES = 4
NAME_POINTS, TYPE_POINTS, BODY_POINTS, SHAPE_POINTS, LABEL_POINTS = 11.5, 8.0, 9.5, 10.0, 8.5
MIN_LABEL_POINTS = 6.0


def text_width() -> float:
    """Room for a parameter line or the output shape inside a node."""
    return style.NODE_WIDTH - 24


def name_room(name: str, layer: str) -> float:
    """Room for the node's name in its header: the name comes first; the layer type gets what is left."""
    return style.NODE_WIDTH - 20


def type_room(name: str, layer: str) -> float:
    """Room left for the layer type beside the name (0: too little to show it)."""
    used = QFontMetricsF(style.font(NAME_POINTS, bold=True)).horizontalAdvance(name) + 8
    room = style.NODE_WIDTH - 20 - used
    return room if room >= 30 else 0.0


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def key_param_lines(node: Node, info: NodeInfo | None) -> list[str]:
    """The few parameters worth reading on the canvas: positional ones (auto ones with their filled value),
    then any the user changed from the default."""
    if node.block is not None:
        return block_lines(node, info)
    spec = LAYERS.get(node.type)
    if spec is None:
        return [f"unknown layer {node.type}"]
    lines: list[str] = []
    effective = info.params if info and info.params else {}
    for p in spec.params:
        if p.auto:
            value = node.params.get(p.name, effective.get(p.name))
            if value is None:
                lines.append(f"{p.name}: auto")
            else:
                lines.append(f"{p.name}: {_value_text(value)}" + ("" if p.name in node.params else " (auto)"))
        else:
            value = node.params.get(p.name, p.default)
            if p.positional or p.always or value != p.default:
                lines.append(f"{p.name}: {_value_text(value)}")
    if len(lines) > MAX_PARAM_LINES:
        lines = [*lines[: MAX_PARAM_LINES - 1], f"… {len(lines) - MAX_PARAM_LINES + 1} more"]
    return lines


def block_lines(node: Node, info: NodeInfo | None) -> list[str]:
    """An instance reads like a layer: its argument values, what its first copy does differently, its size."""
    lines = [f"{key}: {_value_text(value)}" for key, value in node.params.items()]
    if node.repeat > 1 and node.first_block and node.first_block != node.block:
        lines.append(f"1st: {node.first_block}")  # the inspector lists its arguments
    elif node.repeat > 1 and node.first_params:
        lines.append("1st: " + ", ".join(f"{k} {_value_text(v)}" for k, v in node.first_params.items()))
    if len(lines) > MAX_PARAM_LINES - 1:
        lines = [*lines[: MAX_PARAM_LINES - 2], f"… {len(lines) - MAX_PARAM_LINES + 2} more"]
    if info is not None and not info.error:
        lines.append(f"params: {info.param_count:,}")
    return lines


def block_label(node: Node) -> str:
    """The header's type text of an instance: its definition, and the copy count of a repeat."""
    return f"{node.block} ×{node.repeat}" if node.repeat > 1 else str(node.block)


def fitting_font(points: float, text: str, width: float, painter: QPainter) -> QFont:
    """The label font, a little smaller where the view is zoomed out: small text is hinted wider than its size
    at 100 %, and a label would then overflow its box (and hide under the ports) exactly where space is short."""
    font = QFont(style.font(points))
    scale = painter.worldTransform().m11()
    if 0 < scale < 1:
        device = QFont(font)
        device.setPointSizeF(max(1.0, points * scale))
        need = QFontMetricsF(device).horizontalAdvance(text)
        room = width * scale
        if need > room > 0:
            font.setPointSizeF(points * room / need)
    return font


@cache
def label_metrics() -> QFontMetricsF:
    return QFontMetricsF(style.font(LABEL_POINTS))
