"""Small helpers that turn dataset samples (numpy arrays) into pixmaps and tiles with captions."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget


def to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a tensor or array-like (CPU, detached)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def is_image(sample_shape: tuple[int, ...]) -> bool:
    """Whether one sample looks like an image: [H, W], [1|3, H, W] or [H, W, 1|3] with H, W >= 4."""
    if len(sample_shape) == 2:
        return min(sample_shape) >= 4
    if len(sample_shape) == 3:
        return (sample_shape[0] in (1, 3) and min(sample_shape[1:]) >= 4) or (
            sample_shape[2] in (1, 3) and min(sample_shape[:2]) >= 4
        )
    return False


def sample_pixmap(sample: Any, size: int = 56) -> QPixmap:
    """A grey or colour pixmap of one image sample, contrast-stretched and scaled to ``size`` pixels."""
    array = to_numpy(sample).astype(np.float32)
    if array.ndim == 3 and array.shape[0] in (1, 3):
        array = np.transpose(array, (1, 2, 0))  # CHW -> HWC
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    scaled = np.zeros_like(array) if hi <= lo else (array - lo) / (hi - lo)
    pixels = np.ascontiguousarray((np.nan_to_num(scaled) * 255).astype(np.uint8))
    if pixels.ndim == 2:
        h, w = pixels.shape
        image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    else:
        h, w, _ = pixels.shape
        image = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class ImageGrid(QWidget):
    """A grid of image tiles, each with a caption underneath (colour marks right/wrong predictions)."""

    def __init__(self, columns: int = 8, tile: int = 56, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.tile = tile
        self._grid = QGridLayout(self)
        self._grid.setSpacing(4)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.tiles: list[QWidget] = []

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        columns = max(2, event.size().width() // (self.tile + 26))
        if columns != self.columns and self.tiles:
            self.columns = columns
            for i, tile in enumerate(self.tiles):
                self._grid.addWidget(tile, i // columns, i % columns)

    def clear(self) -> None:
        for tile in self.tiles:
            tile.setParent(None)
            tile.deleteLater()
        self.tiles = []

    def set_items(self, items: list[tuple[Any, str, str | None]]) -> None:
        """``items``: (sample, caption, colour or None)."""
        self.clear()
        for i, (sample, caption, colour) in enumerate(items):
            tile = QWidget()
            box = QVBoxLayout(tile)
            box.setContentsMargins(2, 2, 2, 2)
            box.setSpacing(1)
            picture = QLabel()
            picture.setPixmap(sample_pixmap(sample, self.tile))
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text = QLabel(caption)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setWordWrap(True)
            style = "font-size: 9pt;"
            if colour:
                style += f" color: {colour}; font-weight: bold;"
            text.setStyleSheet(style)
            box.addWidget(picture)
            box.addWidget(text)
            self._grid.addWidget(tile, i // self.columns, i % self.columns)
            self.tiles.append(tile)
