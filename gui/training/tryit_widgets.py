"""The Try it tab's widgets apart from the tab itself: the class probabilities as bars (``ProbabilityBars``), a
2-D point set with the network's decision boundary behind it, where a click asks for a prediction
(``PointsPlot``), one spin box per feature of a small table (``FeatureTable``), and a line to type a sentence or
token ids into (``TextPage``). The image page (pad, files) is ``gui.training.tryit_image``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gui.training.tryit_model import TrySource, feature_names
from gui.widgets.images import to_numpy, token_text, visible_name
from gui.widgets.preview import add_class_scatter, class_colour

log = logging.getLogger(__name__)


def _still_plot(widget: pg.PlotWidget, title: str) -> pg.PlotItem:
    """A plot that does not pan, zoom or open a menu: the user clicks it, nothing else."""
    plot = widget.getPlotItem()
    plot.setTitle(title, color="#222", size="9pt")
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)
    return plot


def _short(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class ProbabilityBars(pg.PlotWidget):
    """One bar per class in the class colours of the other views; hidden for a regression."""

    names: tuple[str, ...] = ()  # the class names under the bars (a class default: resizeEvent comes in __init__)

    def __init__(self) -> None:
        super().__init__(background="w")
        plot = _still_plot(self, "Class probabilities")
        plot.setYRange(0, 1.05, padding=0)
        plot.getAxis("left").setTicks([[(v, f"{int(100 * v)}%") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.bar_item: pg.BarGraphItem | None = None

    def clear_bars(self) -> None:
        self.getPlotItem().clear()
        self.bar_item = None
        self.names = ()

    def setup(self, source: TrySource) -> None:
        """Empty bars for the classes of ``source`` (no bars for a regression)."""
        plot = self.getPlotItem()
        self.clear_bars()
        if source.regression:
            plot.hide()
            return
        plot.show()
        count = max(len(source.class_names), 2)
        names = source.class_names or [str(i) for i in range(count)]
        brushes = [pg.mkBrush(*class_colour(i)) for i in range(count)]
        self.bar_item = pg.BarGraphItem(x=np.arange(count), height=np.zeros(count), width=0.7, brushes=brushes)
        plot.addItem(self.bar_item)
        self.names = tuple(_short(visible_name(names[i])) if i < len(names) else str(i) for i in range(count))
        self._thin_names()
        plot.setXRange(-0.6, count - 0.4, padding=0)
        plot.setYRange(0, 1.05, padding=0)

    def _thin_names(self) -> None:
        """As many class names under the bars as fit side by side (every second, third… in a narrow plot): at
        1280x800 'circle', 'square' and 'triangle' ran into one another. The bars keep the class colours."""
        if not self.names:
            return
        axis = self.getPlotItem().getAxis("bottom")
        metrics = QFontMetrics(axis.font())
        room = max(1.0, self.getPlotItem().vb.width() / len(self.names))  # px per bar
        widest = max(metrics.horizontalAdvance(name) for name in self.names) + 8
        step = max(1, int(np.ceil(widest / room)))
        axis.setTicks([[(i, self.names[i]) for i in range(0, len(self.names), step)]])

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._thin_names()

    def show_values(self, values: np.ndarray) -> None:
        if self.bar_item is not None and len(values) == len(self.bar_item.opts["brushes"]):
            self.bar_item.setOpts(height=values)


class PointsPlot(pg.PlotWidget):
    """A 2-D test set over the class the network predicts at each place; a click emits ``clicked(x, y)`` in the
    data's own coordinates and the marker shows the point tried."""

    clicked = Signal(float, float)

    def __init__(self) -> None:
        super().__init__(background="w")
        _still_plot(self, "Click a point")
        self.scene().sigMouseClicked.connect(self._scene_clicked)
        self.marker = pg.ScatterPlotItem(size=16, symbol="x", pen=pg.mkPen("#111", width=3), brush=None)
        self.value_map = np.zeros((0, 0))  # a regression's predicted value over the plane (behind the points)
        self.value_range: tuple[float, float] | None = None
        self.setToolTip("Click anywhere: the network's prediction for that point is shown on the right.")

    def _scene_clicked(self, event: Any) -> None:
        view = self.getPlotItem().vb
        if view.sceneBoundingRect().contains(event.scenePos()):
            point = view.mapSceneToView(event.scenePos())
            self.clicked.emit(float(point.x()), float(point.y()))

    def draw(self, source: TrySource, model: Any, boundary: bool) -> None:
        """Up to 2,000 test points in their class colours (a regression's: by value); with ``boundary``, the
        predicted class (value) behind them."""
        plot = self.getPlotItem()
        plot.clear()
        plot.setTitle("Click a point", color="#222", size="9pt")
        xs = np.stack([source.raw_sample(i) for i in range(min(len(source.x_test), 2000))])
        lo, hi = xs.min(axis=0).astype(np.float64), xs.max(axis=0).astype(np.float64)  # float32 overflows pyqtgraph
        pad = 0.15 * (hi - lo + 1e-9)
        lo, hi = lo - pad, hi + pad
        if source.regression:  # numbers, not classes: coloured by value, the predicted value behind them
            self._draw_values(source, model, xs, lo, hi, boundary)
        else:
            if boundary:  # one batch: milliseconds for a small network
                try:
                    plot.addItem(decision_boundary(model, source, lo, hi))
                except Exception:  # only a backdrop: the points and the clicks work without it
                    log.exception("Try it could not draw the decision boundary")
            add_class_scatter(
                plot, xs, to_numpy(source.y_test)[: len(xs)].reshape(-1).astype(np.int64), source.class_names, size=6
            )
        self.marker.setData([], [])
        plot.addItem(self.marker)
        plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)

    def _draw_values(
        self, source: TrySource, model: Any, xs: np.ndarray, lo: np.ndarray, hi: np.ndarray, backdrop: bool
    ) -> None:
        """A regression's test points coloured by their true value and, with ``backdrop``, the value the network
        predicts over the plane in the same colours (a point that matches its background is predicted well)."""
        plot = self.getPlotItem()
        true = to_numpy(source.y_test)[: len(xs)].reshape(-1).astype(np.float64)
        self.value_map = np.zeros((0, 0))
        values = true
        if backdrop:
            try:
                self.value_map = predicted_map(model, source, lo, hi)
                values = np.concatenate([true, self.value_map.reshape(-1)])
            except Exception:  # only a backdrop: the points and the clicks work without it
                log.exception("Try it could not draw the predicted values")
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        self.value_range = (low, high)
        colours = VALUE_COLOURS.getLookupTable(nPts=256, alpha=False)

        def shade(v: np.ndarray) -> np.ndarray:
            return colours[np.clip(((v - low) / (high - low or 1.0) * 255).astype(int), 0, 255)]

        if self.value_map.size:
            rgba = np.concatenate([shade(self.value_map), np.full((*self.value_map.shape, 1), 90)], axis=-1)
            image = pg.ImageItem(np.transpose(rgba.astype(np.ubyte), (1, 0, 2)))
            image.setRect(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
            plot.addItem(image)
        brushes = [pg.mkBrush(*c) for c in shade(true)]
        plot.addItem(pg.ScatterPlotItem(xs[:, 0], xs[:, 1], size=7, brush=brushes, pen=pg.mkPen("#333", width=0.5)))
        plot.setTitle("Click a point · colour: value, dark low, light high", color="#222", size="9pt")
        self.setToolTip(f"Click anywhere: the predicted value is shown on the right. Colours: {low:.4g} to {high:.4g}.")


VALUE_COLOURS = pg.colormap.get("viridis")


def predicted_map(model: Any, source: TrySource, lo: np.ndarray, hi: np.ndarray, resolution: int = 80) -> np.ndarray:
    """The value the network predicts over the plane, [row=y, col=x], in one batch."""
    import torch  # deferred for start-up: an idle window imports no torch

    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)), -1)
    mesh = torch.as_tensor(grid.reshape(-1, 2), dtype=torch.float32)
    if source.mean is not None and source.std is not None:  # as prepare() normalised the training points
        mesh = (mesh - source.mean.cpu()) / source.std.cpu()
    with torch.no_grad():
        outputs = model(mesh.reshape(-1, *source.input_shape)).float()
    return outputs.reshape(len(mesh), -1)[:, 0].numpy().reshape(resolution, resolution).astype(np.float64)


def decision_boundary(
    model: Any, source: TrySource, lo: np.ndarray, hi: np.ndarray, resolution: int = 80
) -> pg.ImageItem:
    """The predicted class over the plane, faint behind the points: where a click lands."""
    # deferred for start-up: torch and core.portable.steps (which imports it) load when a run is tried
    import torch

    from core.portable.steps import classes_of

    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)), -1)
    mesh = torch.as_tensor(grid.reshape(-1, 2), dtype=torch.float32)
    if source.mean is not None and source.std is not None:  # as prepare() normalised the training points
        mesh = (mesh - source.mean.cpu()) / source.std.cpu()
    with torch.no_grad():
        classes = classes_of(model(mesh.reshape(-1, *source.input_shape)).float(), source.loss)
    classes_np = classes.numpy().reshape(resolution, resolution)  # [row=y, col=x]
    colours = np.array([class_colour(c, 70) for c in range(max(int(classes_np.max()) + 1, 1))], dtype=np.ubyte)
    image = pg.ImageItem(np.transpose(colours[classes_np], (1, 0, 2)))
    image.setRect(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
    return image


class FeatureTable(QWidget):
    """One spin box per encoded feature of a table's sample, named after the user's column where the data has
    one ("colour = red", "feat_a missing"); ``edited`` on a change."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.form = QFormLayout(self)
        self.spins: list[QDoubleSpinBox] = []

    def fill(self, source: TrySource) -> None:
        """A spin box per feature, its step a tenth of the feature's spread in the test split."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.spins = []
        values = np.stack([source.raw_sample(i) for i in range(len(source.x_test))])
        spread = np.maximum(values.max(axis=0) - values.min(axis=0), 1e-6)
        names = feature_names(source.project.training.dataset, source.sample_shape[0])
        for column, name in enumerate(names):
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(-1e6, 1e6)
            spin.setSingleStep(float(10 ** np.floor(np.log10(spread[column] / 10))))
            spin.valueChanged.connect(lambda _value: self.edited.emit())
            self.form.addRow(name, spin)
            self.spins.append(spin)

    def set_values(self, values: np.ndarray) -> None:
        """Show a sample's values without announcing them as edits."""
        for spin, value in zip(self.spins, values):
            spin.blockSignals(True)
            spin.setValue(float(value))
            spin.blockSignals(False)

    def values(self) -> np.ndarray:
        return np.array([spin.value() for spin in self.spins], dtype=np.float32)


class TextPage(QWidget):
    """A line to type into: a sentence when the run has a vocabulary (its tokenizer makes the token ids), token
    ids otherwise; under it the tokens the network is given. ``typed`` on each edit."""

    typed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.prompt = QLabel("")
        self.prompt.setWordWrap(True)
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.edit.textEdited.connect(lambda _text: self.typed.emit())
        self.seen = QLabel("")
        self.seen.setWordWrap(True)
        self.seen.setStyleSheet("color: #444;")
        self.seen.setToolTip("The token ids the network is given: padded with 0 or cut to the sequence length")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.prompt)
        column.addWidget(self.edit)
        column.addWidget(self.seen)
        column.addStretch(1)
        self.vocabulary: Any = None

    def setup(self, source: TrySource) -> None:
        self.vocabulary = source.vocabulary
        length = int(np.prod(source.input_shape))
        if callable(getattr(source.vocabulary, "encode", None)) and source.next_token:
            self.prompt.setText(
                f"Type the start of a text: the network predicts the character after its last {length}:"
            )
            self.edit.setPlaceholderText("the beginning of a sentence")
        elif callable(getattr(source.vocabulary, "encode", None)):
            self.prompt.setText(f"Type a sentence (the first {length} tokens are used):")
            self.edit.setPlaceholderText("a sentence")
        else:
            top = f"0 to {source.vocab_size - 1}" if source.vocab_size else "whole numbers"
            self.prompt.setText(
                f"This run's data has no words, only token ids: type up to {length} of them ({top}), "
                "separated by spaces:"
            )
            self.edit.setPlaceholderText("e.g. 3 1 7 12")
        self.edit.clear()
        self.seen.clear()

    def show_sample(self, sample: np.ndarray) -> None:
        """A test sample's text in the line (not an edit: no ``typed``)."""
        text = token_text(sample, self.vocabulary, limit=10_000)
        self.edit.setText(text if self.vocabulary is not None else text.removeprefix("tokens "))
        self.show_ids(sample)

    def show_ids(self, ids: np.ndarray) -> None:
        self.seen.setText("The network gets: " + token_text(ids, None, limit=40))
