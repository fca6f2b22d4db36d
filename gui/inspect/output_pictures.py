"""The pictures of one node's output (``core.inspect.activations.NodeOutput``): a grid of feature maps for
``[C, H, W]``, bars for a vector, a heat map for a sequence, the number for a scalar. Painted with QPainter from
the small arrays the summary holds (at most 16 maps of 32 x 32, 256 values), never the whole tensor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QWidget

from gui.inspect.heatmap import HeatMap, image_of

POSITIVE, NEGATIVE = QColor("#1a73e8"), QColor("#d93025")


class MapsGrid(QWidget):
    """Feature maps side by side, each scaled to its own range (dark: its lowest value, yellow: its highest)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maps = np.zeros((0, 1, 1))
        self.images: list[Any] = []
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_maps(self, maps: np.ndarray) -> None:
        self.maps = np.asarray(maps, dtype=float)
        self.images = [image_of(m, float(np.nanmin(m)), float(np.nanmax(m))) for m in self.maps]
        self.update()

    def layout_cells(self) -> tuple[int, int, float]:
        """(columns, rows, side) of the grid that makes the maps largest in this widget."""
        count = max(1, len(self.images))
        best = (1, count, 0.0)
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            side = min((self.width() - 2) / cols, (self.height() - 2) / rows) - 3
            if side > best[2]:
                best = (cols, rows, side)
        return best

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        cols, _rows, side = self.layout_cells()
        if side <= 0:
            return
        h, w = self.maps.shape[1:] if self.maps.ndim == 3 else (1, 1)
        cell_w, cell_h = (side, side * h / w) if w >= h else (side * w / h, side)
        for i, image in enumerate(self.images):
            r, c = divmod(i, cols)
            painter.drawImage(QRectF(1 + c * (side + 3), 1 + r * (side + 3), cell_w, cell_h), image)

    def sizeHint(self) -> QSize:
        return QSize(280, 200)


class Bars(QWidget):
    """One bar per value of a vector, up from a zero line (blue) or down from it (red)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=float)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not len(self.values):
            return
        painter = QPainter(self)
        top, bottom = max(0.0, float(self.values.max())), min(0.0, float(self.values.min()))
        span = top - bottom or 1.0
        height, width = self.height() - 4, self.width() - 4
        zero = 2 + height * top / span
        step = width / len(self.values)
        painter.setPen(Qt.PenStyle.NoPen)
        for i, v in enumerate(self.values):
            bar = height * abs(v) / span
            painter.setBrush(POSITIVE if v >= 0 else NEGATIVE)
            y = zero - bar if v >= 0 else zero
            painter.drawRect(QRectF(2 + i * step, y, max(1.0, step * 0.8), max(bar, 0.5)))
        painter.setPen(self.palette().windowText().color())
        painter.drawLine(2, int(zero), 2 + width, int(zero))

    def sizeHint(self) -> QSize:
        return QSize(280, 140)


class OutputPicture(QStackedWidget):
    """Shows the picture that fits the output's kind; ``kind`` says which one is up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maps = MapsGrid()
        self.bars = Bars()
        self.heat = HeatMap(label_width=0)
        self.value = QLabel()
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.blank = QLabel()
        self.blank.setWordWrap(True)
        self.blank.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for page in (self.blank, self.maps, self.bars, self.heat, self.value):
            self.addWidget(page)
        self.kind = ""

    def show_output(self, output: Any) -> None:
        self.kind = output.kind
        if output.kind == "maps" and output.maps is not None:
            self.maps.set_maps(output.maps)
            self.setCurrentWidget(self.maps)
        elif output.kind == "vector" and output.vector is not None:
            self.bars.set_values(output.vector)
            self.setCurrentWidget(self.bars)
        elif output.kind == "sequence" and output.heat is not None:
            heat = np.asarray(output.heat, dtype=float)
            self.heat.set_values(heat, float(heat.min()), float(heat.max()))
            self.setCurrentWidget(self.heat)
        else:
            self.value.setText(f"<span style='font-size:20pt'>{output.mean:.4g}</span>")
            self.setCurrentWidget(self.value)

    def show_text(self, text: str) -> None:
        self.kind = ""
        self.blank.setText(text)
        self.setCurrentWidget(self.blank)
