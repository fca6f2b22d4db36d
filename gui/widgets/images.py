"""Small helpers that turn dataset samples (numpy arrays) into pixmaps and tiles with captions, or into lines of
text when they are no pictures (token sequences decoded through a vocabulary, table rows)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QListWidget, QListWidgetItem, QWidget


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


FLAT = 1e-3  # a sample whose values span less than this is uniform: not contrast-stretched


def sample_pixmap(sample: Any, size: int = 56, stretch: bool = True) -> QPixmap:
    """A grey or colour pixmap of one image sample, contrast-stretched and scaled to ``size`` pixels. A uniform
    sample is shown as it is (clipped to [0, 1]): stretching float noise (1e-7) to the full range drew stripes.
    ``stretch`` False shows every sample on [0, 1]: brightness and contrast stay visible (augmentation's jitter)."""
    array = to_numpy(sample).astype(np.float32)
    if array.ndim == 3 and array.shape[0] in (1, 3):
        array = np.transpose(array, (1, 2, 0))  # CHW -> HWC
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    scaled = np.clip(array, 0.0, 1.0) if hi - lo < FLAT or not stretch else (array - lo) / (hi - lo)
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


MAX_CELL = 180  # px: a longer class name is elided rather than leaving room for two tiles
CAPTION_MARGIN = 10  # px the list view keeps beside a caption in its cell


class ImageGrid(QListWidget):
    """Image tiles with a caption under each (a colour marks right/wrong predictions), flowing to fit the
    width. One list view draws them all: far cheaper than a widget per tile when a run ends."""

    def __init__(
        self, tile: int = 56, caption_width: int = 0, caption_lines: int = 1, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tile = tile
        self.stretch = True  # each tile contrast-stretched (False: all on [0, 1])
        self.caption_width, self.caption_lines = caption_width, caption_lines
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(tile, tile))
        self.setGridSize(self._cell([], QFontMetrics(self.font())))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet("QListWidget { background: transparent; }")

    def set_items(self, items: Sequence[tuple[Any, str, str | None]]) -> None:
        """``items``: (sample, caption, colour or None)."""
        self.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        lines = [
            (line, bold if colour else self.font()) for _, caption, colour in items for line in caption.split("\n")
        ]
        widths = [QFontMetrics(font).horizontalAdvance(line) for line, font in lines]
        self.setGridSize(
            self._cell(widths, QFontMetrics(bold), max((c.count("\n") + 1 for _, c, _ in items), default=1))
        )
        for sample, caption, colour in items:
            item = QListWidgetItem(QIcon(sample_pixmap(sample, self.tile, self.stretch)), caption)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setSizeHint(self.gridSize())
            if colour:
                item.setForeground(QColor(colour))
                item.setFont(bold)
            self.addItem(item)

    def _cell(self, widths: list[int], metrics: QFontMetrics, lines: int = 1) -> QSize:
        """A cell as wide as the widest caption line (up to ``MAX_CELL``) and tall enough for all its lines: in
        fixed cells the list view elided 'triangle' to 'tri…' and cut '(true: circle)' off at the bottom."""
        width = min(MAX_CELL, max(self.tile + 10, self.caption_width, max(widths, default=0) + CAPTION_MARGIN))
        return QSize(width, self.tile + 10 + metrics.lineSpacing() * max(lines, self.caption_lines))

    def captions(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


VISIBLE = {" ": "␣ (space)", "\n": "⏎ (new line)", "\t": "⇥ (tab)", "": "(empty)"}


def visible_name(name: str) -> str:
    """A class name that can be seen: a next-character set's classes include the space and the new line."""
    return VISIBLE.get(name, name if name.strip() else repr(name))


def raw_sample(dataset: Any, x: Any, index: int) -> np.ndarray:
    """Sample ``index`` of ``x`` (a split of ``dataset``) as the data gave it: in its own shape, the training's
    normalisation undone for float samples (as ``Dataset.preview`` does)."""
    sample = to_numpy(x[index])
    shape = tuple(getattr(dataset, "sample_shape", ()) or sample.shape)
    if sample.size == int(np.prod(shape)):
        sample = sample.reshape(shape)
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    if sample.dtype.kind == "f" and mean is not None and std is not None:
        return (sample[None] * to_numpy(std) + to_numpy(mean))[0]  # mean and std keep the batch axis
    return sample


def vocabulary_of(dataset: Any) -> Any:
    """The run's vocabulary, when its data has one (text read through a tokenizer: ``core.datasets.text`` keeps
    a ``Vocabulary`` with ``tokens`` and ``encode(text)`` in ``dataset.extra["vocab"]``); ``dataset.vocabulary``
    is read too. None for token ids without words (the generated sequences)."""
    if dataset is None:
        return None
    found = getattr(dataset, "vocabulary", None)
    if found is None:
        extra = getattr(dataset, "extra", None)
        if isinstance(extra, dict):
            found = extra.get("vocab", extra.get("vocabulary"))
    return found


def token_text(ids: Any, vocabulary: Any = None, limit: int = 60) -> str:
    """A token sequence as text: decoded through the run's vocabulary when it has one (its ``decode(ids)``, else
    its ``tokens``: id i is ``tokens[i]``, characters joined without spaces), otherwise its token ids. Padding
    (id 0) at the end is left out."""
    values = [int(v) for v in to_numpy(ids).reshape(-1)]
    while len(values) > 1 and values[-1] == 0:
        values.pop()
    head, more = values[:limit], len(values) > limit
    tail = " …" if more else ""
    if vocabulary is not None:
        try:
            decode = getattr(vocabulary, "decode", None)
            if callable(decode):
                return str(decode(head)) + tail
            tokens = getattr(vocabulary, "tokens", vocabulary)
            words = [str(tokens[v]) if 0 <= v < len(tokens) else f"<{v}>" for v in head]
            if getattr(vocabulary, "tokenizer", None) == "char" or all(len(w) == 1 for w in words):
                return "".join(words) + tail
            return re.sub(r" ([^\w\s<])(?= |$)", r"\1", " ".join(words)) + tail  # "dull , really" -> "dull, really"
        except Exception:  # a vocabulary that cannot decode these ids: show the ids
            pass
    return "tokens " + " ".join(str(v) for v in head) + tail


def sample_text(sample: Any, vocabulary: Any = None, limit: int = 8) -> str:
    """One sample that is not a picture, in a line: its text (token ids) or its first values."""
    array = to_numpy(sample)
    if array.dtype.kind in "iu":
        return token_text(array, vocabulary)
    values = array.reshape(-1)
    head = ", ".join(f"{float(v):.4g}" for v in values[:limit])
    return f"[{head}{', …' if len(values) > limit else ''}]"


class TextList(QListWidget):
    """Samples that are not pictures (text, token ids, table rows): one line each, coloured like the image tiles'
    captions (green right, red wrong)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWordWrap(True)
        self.setStyleSheet("QListWidget { background: transparent; }")

    def set_items(self, items: Sequence[tuple[str, str | None]]) -> None:
        """``items``: (line, colour or None)."""
        self.clear()
        for line, colour in items:
            item = QListWidgetItem(line)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(line)
            if colour:
                item.setForeground(QColor(colour))
            self.addItem(item)

    def lines(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
