"""Colours, sizes and small icons shared by the canvas, the palette and the inspector."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPixmap

CATEGORY_COLORS: dict[str, str] = {
    "Input": "#2e7d32",
    "Linear": "#1565c0",
    "Convolution": "#6a1b9a",
    "Pooling": "#00838f",
    "Normalization": "#ef6c00",
    "Dropout": "#757575",
    "Activation": "#c62828",
    "Shape": "#5d4037",
    "Recurrent": "#283593",
    "Attention": "#00695c",
    "Merge": "#ad1457",
    "Block": "#4e342e",
    "Output": "#37474f",
}
CATEGORY_GLYPHS: dict[str, str] = {
    "Input": "→",
    "Linear": "W",
    "Convolution": "C",
    "Pooling": "P",
    "Normalization": "N",
    "Dropout": "D",
    "Activation": "ƒ",
    "Shape": "▭",
    "Recurrent": "R",
    "Attention": "A",
    "Merge": "+",
    "Block": "B",
    "Output": "⇥",
}

# Canvas geometry (scene units = pixels at 100 % zoom).
NODE_WIDTH = 190.0  # "in_features: 12544 (auto)" fits
HEADER_HEIGHT = 28.0
LINE_HEIGHT = 19.0
PORT_Y0 = 46.0  # y of the first port, below the header, the same on every node so straight chains stay straight
PORT_SPACING = 24.0
PORT_RADIUS = 6.0
GRID = 20.0

CANVAS_BACKGROUND = QColor("#f4f5f7")
GRID_COLOR = QColor("#e2e4e8")
NODE_FILL = QColor("#ffffff")
NODE_BORDER = QColor("#9aa0a6")
SELECTED = QColor("#1a73e8")
ERROR = QColor("#d93025")
WARNING = QColor("#f29900")
OK = QColor("#188038")
WIRE = QColor("#5f6368")
TEXT = QColor("#202124")
MUTED = QColor("#5f6368")


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#607d8b"))


@cache
def font(point_size: float = 9.0, bold: bool = False, mono: bool = False) -> QFont:
    """A shared font (do not modify it; copy with QFont(f) first)."""
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if mono else QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


@cache
def category_icon(category: str) -> QIcon:
    """A rounded square in the category colour with a one-letter glyph."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(category_color(category))
    painter.drawRoundedRect(QRectF(2, 2, 28, 28), 7, 7)
    painter.setPen(QColor("white"))
    painter.setFont(font(13, bold=True))
    painter.drawText(QRectF(2, 2, 28, 28), Qt.AlignmentFlag.AlignCenter, CATEGORY_GLYPHS.get(category, "?"))
    painter.end()
    return QIcon(pixmap)


@cache
def status_icon(kind: str) -> QIcon:
    """A small filled circle: "error" red, "warning" amber, "ok" green."""
    color = {"error": ERROR, "warning": WARNING}.get(kind, OK)
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(2, 2, 12, 12))
    painter.setPen(QColor("white"))
    painter.setFont(font(8, bold=True))
    painter.drawText(QRectF(2, 2, 12, 12), Qt.AlignmentFlag.AlignCenter, "✓" if kind == "ok" else "!")
    painter.end()
    return QIcon(pixmap)
