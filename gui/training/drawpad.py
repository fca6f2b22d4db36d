"""A square pad to draw a sample with the mouse, or to drop an image file on.

It keeps a large picture (white ink on black, like MNIST and the digits set) and hands it over as an
[H, W, 3] float array in [0, 1]; the Try it view shrinks it to the Input size with the training's own resize,
so the pad never needs to know the network. The pen is as thick, relative to the pad, as a dataset stroke is
relative to its sample (about 2.5 of MNIST's 28 pixels; 1.4 of the digits' 8, whose strokes are blurred)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PAD = 224  # pixels of the picture drawn on (the widget scales it to its own size)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def pen_fraction(sample_side: int) -> float:
    """The pen's width as a fraction of the pad: ~2.5 sample pixels for MNIST-sized inputs, wider for tiny ones."""
    return max(0.09, 1.4 / max(sample_side, 1))


MAX_PIXELS = 25_000_000  # 25 Mpx (a 6000x4000 camera photo): bigger ones took minutes to decode, and froze the window


def read_image_file(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An image file as an [H, W, 3] float array in [0, 1]; a plain ValueError names the file when it cannot be read.

    The size is read from the header before any pixel is decoded, so an image over ``max_pixels`` is refused at
    once with its size and the limit, instead of holding the window for minutes (a 12000x12000 PNG took ~2 min)."""
    import warnings

    from PIL import Image, UnidentifiedImageError  # deferred for start-up: Pillow loads when a file is read

    from core.portable.images import convert_image  # deferred for start-up: it imports torch

    name = Path(path).name
    try:  # Pillow's DecompressionBombWarning is ours to turn into words; its Error is not an OSError
        with warnings.catch_warnings(action="ignore"), Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ValueError(
                    f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} Mpx); Try it reads images up to "
                    f"{max_pixels / 1e6:g} Mpx. Shrink the image first (the network sees it at its Input size)."
                )
            rgb = convert_image(image, "RGB")  # a 16-bit scan scaled, not clipped to white, as in training
    except Image.DecompressionBombError:  # so big that Pillow refuses even to open it
        raise ValueError(
            f"{name} is over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} Mpx; Try it reads images up to "
            f"{max_pixels / 1e6:g} Mpx. Shrink the image first (the network sees it at its Input size)."
        ) from None
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"{name} could not be read as an image ({exc}). Drop a PNG or JPEG file.") from None
    return np.asarray(rgb, dtype=np.float32) / 255.0


class DrawPad(QWidget):
    """Draw with the left button, erase everything with ``clear``; ``changed`` follows every stroke segment."""

    changed = Signal()
    file_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage(PAD, PAD, QImage.Format.Format_RGB32)
        self.image.fill(QColor("black"))
        self.pen_width = PAD * pen_fraction(28)
        self._last: QPointF | None = None
        self.blank = True  # nothing drawn or shown: the hint is painted
        self.setAcceptDrops(True)
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse (white ink on black, as in the training images), or drop an image file.")

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def set_sample_side(self, side: int) -> None:
        self.pen_width = PAD * pen_fraction(side)

    # -- the picture ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self.image.fill(QColor("black"))
        self.blank = True
        self.update()
        self.changed.emit()

    def array(self) -> np.ndarray:
        """The picture as [PAD, PAD, 3] floats in [0, 1]."""
        image = self.image.convertToFormat(QImage.Format.Format_RGB888)
        row = image.bytesPerLine()
        data = np.frombuffer(image.constBits(), dtype=np.uint8, count=row * image.height()).reshape(image.height(), row)
        return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(np.float32) / 255.0

    def set_array(self, sample: np.ndarray) -> None:
        """Show a sample ([H, W], [C, H, W] or [H, W, C], values in [0, 1]) scaled up to fill the pad."""
        array = np.asarray(sample, dtype=np.float32)
        if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            array = np.transpose(array, (1, 2, 0))
        if array.ndim == 2:
            array = array[:, :, None]
        if array.shape[2] == 1:
            array = np.repeat(array, 3, axis=2)
        pixels = np.ascontiguousarray((np.clip(np.nan_to_num(array[:, :, :3]), 0, 1) * 255).astype(np.uint8))
        height, width = pixels.shape[:2]
        small = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.image.fill(QColor("black"))
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # sharp pixels: what the net sees
        painter.drawImage(self.image.rect(), small)
        painter.end()
        self.blank = False
        self.update()

    def _to_pad(self, pos: QPointF) -> QPointF:
        side = self._side()
        left, top = (self.width() - side) / 2, (self.height() - side) / 2
        return QPointF((pos.x() - left) * PAD / side, (pos.y() - top) * PAD / side)

    def _side(self) -> float:
        return float(max(1, min(self.width(), self.height())))

    def _line(self, start: QPointF, end: QPointF) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("white"), self.pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self.blank = False
        self.update()
        self.changed.emit()

    # -- mouse and drops -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self._to_pad(event.position())
            self._line(self._last, self._last)  # a dot for a click
        elif event.button() == Qt.MouseButton.RightButton:
            self.clear()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            point = self._to_pad(event.position())
            self._line(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _image_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _image_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.file_dropped.emit(path)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        side = self._side()
        left, top = (self.width() - side) / 2, (self.height() - side) / 2
        target = self.rect().adjusted(int(left), int(top), -int(left), -int(top))
        painter.drawImage(target, self.image)
        painter.setPen(QColor("#888"))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        if self.blank:
            painter.setPen(QColor("#aaa"))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter, "draw here\n(right-click clears)")
        painter.end()


def _image_path(mime: QMimeData) -> str | None:
    for url in mime.urls() if mime.hasUrls() else []:
        path = url.toLocalFile()
        if path and Path(path).suffix.lower() in IMAGE_SUFFIXES:
            return path
    return None
