"""The confusion matrix as one painted widget: a cell per (true, predicted) pair with its count, shaded by the
share of the true class, class names on both axes. Painting it is a few milliseconds, so it can appear the
moment a run ends without the window stalling."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

ACCURACY_COLUMN = 56  # px for the per-class accuracy column
LIGHT, DARK = np.array([247, 251, 255]), np.array([8, 48, 107])  # white to dark blue


def shade(share: float) -> QColor:
    r, g, b = (LIGHT + (DARK - LIGHT) * min(max(share, 0.0), 1.0)).astype(int)
    return QColor(int(r), int(g), int(b))


class ConfusionMatrix(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.names: list[str] = []
        self.show_accuracy = False  # a column of per-class accuracy bars right of the matrix (narrow results view)
        self.setMouseTracking(True)
        self.setMinimumSize(220, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_show_accuracy(self, show: bool) -> None:
        if show != self.show_accuracy:
            self.show_accuracy = show
            self.update()

    def accuracy(self) -> np.ndarray:
        """Per true class: the share of its test samples predicted right (0 for a class with none)."""
        if self.matrix.ndim != 2 or not self.matrix.size:
            return np.zeros(0)
        return np.diag(self.matrix) / self.matrix.sum(axis=1).clip(min=1)

    def set_matrix(self, matrix: np.ndarray, names: list[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=np.int64)
        n = self.matrix.shape[0] if self.matrix.ndim == 2 else 0
        self.names = [names[i] if i < len(names) else str(i) for i in range(n)]
        self.update()

    def clear(self) -> None:
        self.set_matrix(np.zeros((0, 0), dtype=np.int64), [])

    def cell_text(self, row: int, col: int) -> str:
        return str(int(self.matrix[row, col]))

    # -- geometry -------------------------------------------------------------------------------------------
    def _layout(self) -> tuple[QRect, float]:
        """The rectangle of the cells and the size of one cell."""
        n = len(self.names)
        metrics = QFontMetrics(self.font())
        label = min(90, max((metrics.horizontalAdvance(_short(name)) for name in self.names), default=0) + 8)
        top, left = metrics.height() + 8, label + metrics.height() + 6
        bottom = metrics.height() * 2 + 10
        right = 6 + (ACCURACY_COLUMN if self.show_accuracy else 0)
        side = max(1.0, min((self.width() - left - right) / max(n, 1), (self.height() - top - bottom) / max(n, 1)))
        return QRect(left, top, int(side * n), int(side * n)), side

    def _cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        grid, side = self._layout()
        if not self.names or not grid.contains(pos):
            return None
        col, row = int((pos.x() - grid.left()) / side), int((pos.y() - grid.top()) / side)
        n = len(self.names)
        return (row, col) if row < n and col < n else None

    # -- painting -------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(QColor("#222"))
        painter.drawText(QRect(0, 2, self.width(), 20), Qt.AlignmentFlag.AlignHCenter, "Confusion matrix (test set)")
        n = len(self.names)
        if not n:
            painter.end()
            return
        grid, side = self._layout()
        totals = self.matrix.sum(axis=1).clip(min=1)
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(10.0, side / 3.2)))
        painter.setFont(font)
        for row in range(n):
            for col in range(n):
                share = self.matrix[row, col] / totals[row]
                cell = QRectF(grid.left() + col * side, grid.top() + row * side, side, side)
                painter.fillRect(cell, shade(share))
                if side >= 14:
                    painter.setPen(QColor("white") if share > 0.5 else QColor("#222"))
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, self.cell_text(row, col))
        painter.setPen(QColor("#bbb"))
        painter.drawRect(grid)
        if self.show_accuracy:
            self._paint_accuracy(painter, grid, side)
        painter.setFont(self.font())
        painter.setPen(QColor("#444"))
        metrics = QFontMetrics(self.font())
        step = max(1, int(np.ceil(metrics.height() / side)))
        for i in range(0, n, step):
            name = _short(self.names[i])
            y = grid.top() + i * side
            painter.drawText(
                QRectF(metrics.height() + 4, y, grid.left() - metrics.height() - 8, side),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
        widest = max(metrics.horizontalAdvance(_short(name)) for name in self.names) + 6
        step = max(1, int(np.ceil(widest / side)))  # names under the columns never run into each other
        for i in range(0, n, step):
            x = grid.left() + i * side
            painter.drawText(
                QRectF(x + side / 2 - widest / 2, grid.bottom() + 2, widest, metrics.height()),
                Qt.AlignmentFlag.AlignHCenter,
                _short(self.names[i]),
            )
        painter.drawText(
            QRect(grid.left(), grid.bottom() + metrics.height() + 4, grid.width(), metrics.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "predicted class",
        )
        painter.translate(2, grid.center().y())
        painter.rotate(-90)
        painter.drawText(
            QRect(-grid.height() // 2, 0, grid.height(), metrics.height()), Qt.AlignmentFlag.AlignHCenter, "true class"
        )
        painter.end()

    def _paint_accuracy(self, painter: QPainter, grid: QRect, side: float) -> None:
        """Per-class accuracy beside each row: a bar and, where it fits, the percentage."""
        metrics = QFontMetrics(self.font())
        left = grid.right() + 8
        width = ACCURACY_COLUMN - 12
        painter.setPen(QColor("#444"))
        painter.setFont(self.font())
        painter.drawText(
            QRectF(left - 4, grid.bottom() + 2, width + 8, metrics.height()),  # under the column, beside the names
            Qt.AlignmentFlag.AlignHCenter,
            "right",
        )
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, min(9.0, side / 2.2)))
        for row, share in enumerate(self.accuracy()):
            y = grid.top() + row * side
            bar = QRectF(left, y + side * 0.2, width * float(share), side * 0.6)
            painter.fillRect(QRectF(left, y + side * 0.2, width, side * 0.6), QColor("#e8eaed"))
            painter.fillRect(bar, shade(float(share)))
            if side >= 12:
                painter.setFont(small)
                painter.setPen(QColor("white") if share > 0.6 else QColor("#222"))
                painter.drawText(QRectF(left, y, width, side), Qt.AlignmentFlag.AlignCenter, f"{100 * share:.0f}%")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self._cell_at(event.position().toPoint())
        if cell is None:
            QToolTip.hideText()
            return
        row, col = cell
        count = int(self.matrix[row, col])
        verdict = "right" if row == col else "wrong"
        QToolTip.showText(
            event.globalPosition().toPoint(),
            f"{count} test sample(s) of class {self.names[row]} predicted as {self.names[col]} ({verdict})",
            self,
        )


def _short(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
