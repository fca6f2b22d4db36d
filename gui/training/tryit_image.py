"""Try it's image input: the drawing pad with its buttons, a dropped or opened image file, and beside them the
picture at the Input size (what the network is given).

A file is read in a background thread (``read_file``): decoding and converting a phone photo (12 Mpx) or anything
up to ``drawpad.MAX_PIXELS`` took seconds on the GUI thread, the window not answering meanwhile. Only the newest
file counts, and ``forget_file`` drops one still being read when the user tried something else meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.training.drawpad import DrawPad, read_image_file
from gui.training.tryit_model import TrySource
from gui.widgets.background import Background
from gui.widgets.images import sample_pixmap

log = logging.getLogger(__name__)


class ImagePage(QWidget):
    """Draw on the pad, or drop or open an image file. ``drawn`` when the drawing changed, ``image_chosen(path)``
    for a file the user gave; once ``read_file`` has read it, ``file_read(path, picture, sample)`` with the
    [H, W, 3] picture in [0, 1] (for the pad) and what ``fit`` made of the file (the network's sample, or None),
    or ``file_failed(message)`` naming the file."""

    drawn = Signal()
    image_chosen = Signal(str)
    file_read = Signal(str, object, object)
    file_failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.pad = DrawPad()
        self.pad.changed.connect(self.drawn.emit)
        self.pad.file_dropped.connect(self.image_chosen.emit)
        self.reader = Background()  # one file at a time; a file given meanwhile waits, replacing an older one
        self.reader.done.connect(self._read_done)
        self._reading: tuple[int, str] | None = None  # (request number, path) of the file being read
        self._requests = 0
        clear = QPushButton("Clear")
        clear.clicked.connect(self.pad.clear)
        open_image = QPushButton("Open image…")
        open_image.setToolTip("Use a picture file (it is resized and converted like the training images)")
        open_image.clicked.connect(self._open)
        self.seen = QLabel()
        self.seen.setToolTip("What the network sees: the drawing resized to the Input size, as the training images")
        row = QHBoxLayout()
        row.addWidget(clear)
        row.addWidget(open_image)
        row.addStretch(1)
        row.addWidget(QLabel("Network input:"))
        row.addWidget(self.seen)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.pad, 1)
        column.addLayout(row)

    def _open(self) -> None:
        path = ask_image_path(self)
        if path:
            self.image_chosen.emit(path)

    def read_file(self, path: str, fit: Callable[[str], np.ndarray] | None = None) -> None:
        """Read ``path`` (and ``fit(path)``: the file as the training reads one) in a background thread;
        ``file_read`` or ``file_failed`` follows unless a newer file or ``forget_file`` came first."""
        self._requests += 1
        self._reading = (self._requests, path)
        self.reader.submit(self._requests, lambda: (read_image_file(path), fit(path) if fit else None))

    def forget_file(self) -> None:
        self._reading = None

    def _read_done(self, number: int, result: Any) -> None:
        if self._reading is None or self._reading[0] != number:
            return  # a newer file, or another input, came since
        path, self._reading = self._reading[1], None
        if isinstance(result, ValueError):  # read_image_file's words, naming the file
            self.file_failed.emit(str(result))
        elif isinstance(result, Exception):
            log.error("Try it could not read %s", path, exc_info=result)
            self.file_failed.emit(f"{Path(path).name} could not be read as an image ({result}).")
        else:
            self.file_read.emit(path, *result)

    def show_array(self, picture: np.ndarray) -> None:
        """Show a test sample or a file's picture on the pad (not a drawing: no ``drawn``)."""
        self.pad.blockSignals(True)
        self.pad.set_array(picture)
        self.pad.blockSignals(False)

    def show_seen(self, source: TrySource, sample: np.ndarray) -> np.ndarray | None:
        """The sample at the Input size (the training's resize and channels, before normalisation), or None."""
        from core.portable.inference import preprocess  # deferred for start-up: it imports torch

        try:
            seen = preprocess(sample, None, None, source.sample_shape, source.image_size, source.layout)[0].numpy()
        except Exception:  # only a picture: the prediction says what went wrong
            log.debug("no input preview", exc_info=True)
            return None
        self.seen.setPixmap(sample_pixmap(np.clip(seen, 0, 1), size=56))
        return seen


def channels_first(picture: np.ndarray) -> np.ndarray:
    """A pad or file picture ([H, W, 3]) as [3, H, W], the layout of the test samples, so every image Try it
    predicts is channels-first and ``preprocess`` is told so (a guess misread strips 1, 3 or 4 pixels high)."""
    return np.ascontiguousarray(np.transpose(picture, (2, 0, 1)))


def ask_image_path(parent: QWidget) -> str:
    """The image file to try (tests replace this: a dialog offscreen would wait forever)."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Try an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)"
    )
    return path
