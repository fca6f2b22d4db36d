"""A small heat map painted with QPainter: rows labelled on the left, one coloured cell per value, NaN grey.

Used by the layer health tab (layers x time) and the layer output card (a sequence, a feature map). The cells are
one QImage of the array's size, scaled when drawn: a repaint costs the same whatever the widget's size.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# viridis at five stops (matplotlib's), interpolated: dark blue for low, yellow for high
VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float)
MISSING = (224, 224, 224)


def colours(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """[..., 3] uint8 colours of ``values`` on viridis between ``low`` and ``high``; NaN is light grey."""
    span = high - low if high > low else 1.0
    t = np.clip((np.nan_to_num(values, nan=low) - low) / span, 0.0, 1.0) * (len(VIRIDIS) - 1)
    i = np.minimum(t.astype(int), len(VIRIDIS) - 2)
    f = (t - i)[..., None]
    rgb = VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f
    rgb[np.isnan(values)] = MISSING
    return rgb.astype(np.uint8)


def image_of(values: np.ndarray, low: float, high: float) -> QImage:
    """A [rows, cols] array as an RGB32 image of the same size (its own copy of the pixels)."""
    rows, cols = values.shape
    rgb = colours(values, low, high)
    argb = np.empty((rows, cols, 4), dtype=np.uint8)
    argb[..., 0], argb[..., 1], argb[..., 2], argb[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
    return QImage(argb.tobytes(), cols, rows, cols * 4, QImage.Format.Format_RGB32).copy()


class HeatMap(QWidget):
    """Shows ``set_values(values [rows, cols], low, high, row_labels, tip)``; ``tip(row, col)`` is the hover text."""

    def __init__(self, parent: QWidget | None = None, label_width: int = 110) -> None:
        super().__init__(parent)
        self.values = np.zeros((0, 0))
        self.low, self.high = 0.0, 1.0
        self.row_labels: list[str] = []
        self.tip = None
        self.label_width = label_width
        self.max_row = 0  # pixels a row may take at most (0: the rows share the height)
        self.empty_text = ""
        self._image: QImage | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(120, 60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, values: np.ndarray, low: float, high: float, row_labels=(), tip=None) -> None:
        self.values = np.asarray(values, dtype=float)
        self.low, self.high = low, high
        self.row_labels = list(row_labels)
        self.tip = tip
        self._image = image_of(self.values, low, high) if self.values.size else None
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        rows = len(self.values)
        return QSize(400, rows * self.max_row + 4 if self.max_row and rows else 160)

    def cells(self) -> QRect:
        """Where the cells go: right of the labels, rows at most ``max_row`` pixels high (a small map)."""
        left = self.label_width if self.row_labels else 0
        area = self.rect().adjusted(left, 2, -2, -2)
        if self.max_row and len(self.values):
            area.setHeight(min(area.height(), self.max_row * len(self.values)))
        return area

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = self.cells()
        if self._image is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        painter.drawImage(area, self._image)
        rows = len(self.values)
        if self.row_labels and rows:
            height = area.height() / rows
            metrics = painter.fontMetrics()
            if height >= metrics.height() * 0.8:  # only when the names fit; the tooltip names every row
                painter.setPen(self.palette().windowText().color())
                for r, name in enumerate(self.row_labels):
                    box = QRect(0, int(area.top() + r * height), self.label_width - 6, int(height))
                    text = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, box.width())
                    painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)

    def cell_at(self, point: QPoint) -> tuple[int, int] | None:
        area = self.cells()
        if self._image is None or not area.contains(point):
            return None
        rows, cols = self.values.shape
        r = min(rows - 1, (point.y() - area.top()) * rows // max(1, area.height()))
        c = min(cols - 1, (point.x() - area.left()) * cols // max(1, area.width()))
        return r, c

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell is not None and self.tip is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.tip(*cell), self)
        super().mouseMoveEvent(event)
