"""What the chosen dataset looks like: a grid of sample images or a scatter plot of a 2-D set, with the class
names, how many samples each split holds and the shape of one sample."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.model.shape_rules import fmt
from gui.panels.wrapping import let_wrap
from gui.widgets.images import ImageGrid, is_image, to_numpy

# Category colours that stay apart for up to ten classes (tab10).
PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def class_colour(index: int, alpha: int = 255) -> tuple[int, int, int, int]:
    r, g, b = PALETTE[index % len(PALETTE)]
    return r, g, b, alpha


def scatter_points(x: Any, y: Any, limit: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` points of a 2-D set as (N, 2) floats and their integer labels."""
    xs = to_numpy(x)[:limit].reshape(-1, 2).astype(np.float64)
    ys = to_numpy(y)[:limit].reshape(-1).astype(np.int64)
    return xs, ys


def legend_below(plot: pg.PlotItem, entries: int) -> None:
    """An empty legend in its own row under the plot (one inside would cover points); named items added to the
    plot then appear in it."""
    columns = max(1, min(entries, 5))
    if plot.legend is None:
        plot.legend = pg.LegendItem(labelTextColor="#222", colCount=columns)
        plot.layout.addItem(plot.legend, 5, 1)
    plot.legend.clear()
    plot.legend.setColumnCount(columns)


def add_class_scatter(plot: pg.PlotItem, xs: np.ndarray, ys: np.ndarray, names: list[str], size: int = 6) -> None:
    """One scatter item per class so the legend names them."""
    for cls in np.unique(ys):
        pts = xs[ys == cls]
        name = names[cls] if 0 <= cls < len(names) else str(cls)
        item = pg.ScatterPlotItem(
            pts[:, 0], pts[:, 1], size=size, brush=pg.mkBrush(*class_colour(int(cls))), pen=None, name=name
        )
        plot.addItem(item)


def add_value_scatter(plot: pg.PlotItem, xs: np.ndarray, values: np.ndarray, size: int = 6) -> None:
    """Points coloured by the number to predict (dark blue lowest, yellow highest), with one legend entry saying
    so: a regression set's targets are no classes (its legend once listed the rounded values -10 ... 0 as such)."""
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    colours = pg.colormap.get("viridis").map(scaled, mode="qcolor")
    brushes = [pg.mkBrush(colour) for colour in colours]
    name = f"value: dark {lo:.3g} → yellow {hi:.3g}"  # short: the legend sits under a narrow plot
    plot.addItem(pg.ScatterPlotItem(xs[:, 0], xs[:, 1], size=size, brush=brushes, pen=None, name=name))


class RowLimit(QObject):
    """Shows only the samples of a grid that fill ``rows`` rows at its width (a narrow column would otherwise cut
    the next row in half): follows the grid's viewport, whose width is known only once the layout has placed it
    (the preview's own resize came first, with the old width, and let a third row show its top)."""

    def __init__(self, grid: ImageGrid, rows: int) -> None:
        super().__init__(grid)
        self.grid, self.rows = grid, rows
        grid.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.apply()
        return False

    def apply(self) -> None:
        per_row = max(1, self.grid.viewport().width() // max(1, self.grid.gridSize().width()))
        for i in range(self.grid.count()):
            self.grid.item(i).setHidden(i >= self.rows * per_row)


class DatasetPreview(QWidget):
    shown = Signal(int)  # a dataset (its training samples) or an error (0) is shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_count = 0  # samples in the shown dataset's training split (the steps an epoch follow it)
        self.dataset: Any = None
        self.info = QLabel("Choose a dataset to see a few samples.")
        self.info.setWordWrap(True)
        self.grid = ImageGrid(tile=28)
        self.grid.setFixedHeight(2 * self.grid.gridSize().height() + 6)  # two rows of samples
        self.grid.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # no third row to scroll to
        self.rows = RowLimit(self.grid, 2)
        self.scatter = pg.PlotWidget(background="w")
        self.scatter.setMinimumHeight(160)
        self.scatter.getPlotItem().setMenuEnabled(False)
        self.scatter.getPlotItem().hideButtons()
        self.texts = let_wrap(QLabel(""))  # text samples, read back from their token ids
        self.texts.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.grid)
        layout.addWidget(self.scatter)
        layout.addWidget(self.texts)
        layout.addWidget(self.info)
        self._show("none")

    def _show(self, kind: str) -> None:
        """Only the view in use takes room (images, scatter, text, or none)."""
        self.kind = kind
        self.grid.setVisible(kind == "images")
        self.scatter.setVisible(kind == "scatter")
        self.texts.setVisible(kind == "text")

    def show_error(self, message: str) -> None:
        self._show("none")
        self.info.setText(f"<span style='color:#b00020'>{message}</span>")
        self.train_count, self.dataset = 0, None
        self.shown.emit(0)

    def show_note(self, message: str) -> None:
        """Nothing to preview, and nothing wrong either (a project with no dataset yet)."""
        self._show("none")
        self.info.setText(message)
        self.train_count, self.dataset = 0, None
        self.shown.emit(0)

    def show_dataset(self, dataset: Any) -> None:
        preview = dataset.preview(k=16)
        names = list(preview.class_names or dataset.class_names or [])
        if getattr(dataset, "is_2d", False):
            plot = self.scatter.getPlotItem()
            plot.clear()
            regression = getattr(dataset, "task", "classification") == "regression"
            legend_below(plot, 1 if regression else len(names))
            if regression:  # a number, not classes, to colour
                xs = to_numpy(dataset.x_train)[:3000].reshape(-1, 2).astype(np.float64)
                add_value_scatter(plot, xs, to_numpy(dataset.y_train)[:3000].reshape(-1).astype(np.float64), 4)
            else:
                xs, ys = scatter_points(dataset.x_train, dataset.y_train)
                add_class_scatter(plot, xs, ys, names, size=4)
            self._show("scatter")
        elif is_image(tuple(preview.input_shape)):
            labels = list(preview.labels)
            items = []
            for sample, label in zip(preview.samples, labels):
                caption = names[label] if 0 <= label < len(names) else str(label)
                items.append((sample, caption, None))
            self.grid.set_items(items)  # the cells take the width of the longest class name shown
            self.grid.setFixedHeight(2 * self.grid.gridSize().height() + 6)
            self.rows.apply()
            self._show("images")
        elif text_lines(dataset, preview, names):
            self.texts.setText("<br>".join(text_lines(dataset, preview, names)))
            self._show("text")
        else:
            self._show("none")
        self.info.setText(describe(dataset, preview))
        # A light preview (core.datasets.light: drawn without torch) has no tensors to augment: the dashboard hands
        # the augmentation box the full dataset once it is loaded.
        shown = None if getattr(dataset, "light", False) else dataset
        self.train_count, self.dataset = int((preview.counts or {}).get("train", 0)), shown
        self.shown.emit(self.train_count)


TEXT_LINES = 6
TEXT_CHARS = 90


def text_lines(dataset: Any, preview: Any, names: list[str]) -> list[str]:
    """A text dataset's first samples read back through its vocabulary ('<b>positive</b> the show was good'), so
    the preview shows sentences, not token ids; [] for data without a vocabulary."""
    vocab = (getattr(dataset, "extra", None) or {}).get("vocab")
    if vocab is None:
        return []
    tokens, joiner = list(vocab.tokens), "" if vocab.tokenizer == "char" else " "
    lines = []
    for sample, label in zip(preview.samples[:TEXT_LINES], list(preview.labels) or [None] * TEXT_LINES):
        ids = [int(i) for i in np.asarray(sample).reshape(-1) if int(i) != 0]  # 0 pads
        text = joiner.join(tokens[i] if 0 <= i < len(tokens) else "?" for i in ids)
        text = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
        caption = names[label] if label is not None and 0 <= label < len(names) else ""
        shown = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"<b>{caption}</b> {shown}" if caption.strip() else shown)
    return lines


def describe(dataset: Any, preview: Any) -> str:
    """'10 classes: 0, 1, ... · 1437 training / 160 validation / 200 test samples · one sample is [1, 8, 8]'."""
    names = list(preview.class_names or dataset.class_names or [])
    parts = []
    if getattr(dataset, "task", "classification") == "classification" and names:
        shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
        parts.append(f"<b>{len(names)} classes:</b> {shown}")
    counts = dict(preview.counts or {})
    if counts:
        split_words = {"train": "training", "val": "validation", "test": "test"}
        parts.append(" / ".join(f"{n:,} {split_words.get(k, k)}" for k, n in counts.items()) + " samples")
    parts.append(f"one sample is <b>{fmt(tuple(preview.input_shape))}</b>")
    return " · ".join(parts)
