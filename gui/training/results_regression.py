"""After a regression run: predicted against true values with the diagonal a perfect network would sit on, the
residuals, MAE, RMSE and R² in words, and the test samples it got furthest from and closest to.

A regression has no classes, so accuracy, the confusion matrix and the decision boundary mean nothing for it
(they showed its targets rounded as classes); the results view shows this page instead of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from gui.widgets.images import ImageGrid, TextList, is_image, raw_sample, sample_text, vocabulary_of

if TYPE_CHECKING:
    from core.datasets import Dataset
    from core.training.events import TrainResult
    from core.training.metrics import RegressionMetrics

MAX_POINTS = 5000  # drawn of a bigger test split (every k-th sample): a scatter of more reads the same
RIGHT, WRONG = "#1b7f3b", "#c62828"
POINT = (31, 119, 180, 140)


def value(v: float | None) -> str:
    return "–" if v is None or v != v else f"{float(v):.4g}"


def figures_html(figures: RegressionMetrics) -> str:
    """MAE, RMSE and R² in words a beginner can act on."""
    text = (
        f"On {figures.count:,} test samples the network never saw, its predictions are off by "
        f"<b>{value(figures.mae)}</b> on average (MAE); RMSE <b>{value(figures.rmse)}</b> weighs big misses more."
    )
    if figures.r2 is None:
        return text + " R² is not defined: every test sample has the same true value."
    r2 = figures.r2
    if r2 >= 0:
        verdict = f"the network explains {100 * r2:.0f}% of how the true values vary"
    else:
        verdict = "worse than always guessing the average true value"
    return text + f" R² <b>{r2:.3f}</b>: {verdict} (1 is perfect, 0 is no better than guessing the average)."


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w")
    plot = widget.getPlotItem()
    plot.setTitle(title, color="#222", size="9pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.setMenuEnabled(False)
    widget.setMinimumSize(140, 140)  # two plots and the samples fit the dashboard of a 1280-pixel window
    return widget


class RegressionResults(QWidget):
    """Fill with ``show_result(result, dataset)``; ``result.regression`` holds the figures
    (``core.training.metrics.RegressionMetrics``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words = QLabel("")
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.TextFormat.RichText)
        self.scatter = _plot("Predicted vs true (test set)", "true value", "predicted")
        self.scatter.setToolTip("Each dot is a test sample; a perfect network puts every dot on the dashed diagonal.")
        self.residuals = _plot("Residuals", "predicted", "predicted − true")
        self.residuals.setToolTip("How far each prediction is off, above (too high) or below (too low) zero.")
        self.extremes_title = QLabel("")
        self.extremes_title.setWordWrap(True)
        self.extremes_title.setTextFormat(Qt.TextFormat.RichText)
        self.extreme_images = ImageGrid(tile=48, caption_width=84, caption_lines=2)
        self.extreme_text = TextList()
        self.extremes = QStackedWidget()
        self.extremes.addWidget(self.extreme_images)
        self.extremes.addWidget(self.extreme_text)
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(4, 0, 0, 0)
        box.addWidget(self.extremes_title)
        box.addWidget(self.extremes, 1)
        holder.setMinimumWidth(160)
        split = QSplitter(Qt.Orientation.Horizontal)
        for part in (self.scatter, self.residuals, holder):
            split.addWidget(part)
        split.setChildrenCollapsible(False)
        for index, stretch in enumerate((3, 3, 4)):  # the samples' lines need the room more than the plots
            split.setStretchFactor(index, stretch)
        self._sized = False
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.words)
        layout.addWidget(split, 1)
        self.shown_points = 0  # dots in the scatter (the tests read it)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized and self.width() > 100:  # once: the plots' size hints would otherwise take it all
            self._sized = True
            width = self.split.width()
            self.split.setSizes([width * 3 // 10, width * 3 // 10, width * 4 // 10])

    def clear(self) -> None:
        self.words.setText("")
        self.scatter.getPlotItem().clear()
        self.residuals.getPlotItem().clear()
        self.extremes_title.setText("")
        self.extreme_images.clear()
        self.extreme_text.clear()
        self.shown_points = 0

    def show_result(self, result: TrainResult, dataset: Dataset | None = None) -> None:
        figures = getattr(result, "regression", None)
        self.clear()
        if figures is None:
            self.words.setText("This run has no test figures: its test split is empty, or the run did not finish.")
            return
        self.words.setText(figures_html(figures))
        true, predicted = np.asarray(figures.true, dtype=np.float64), np.asarray(figures.predicted, dtype=np.float64)
        step = max(1, int(np.ceil(len(true) / MAX_POINTS)))
        true, predicted = true[::step], predicted[::step]
        self.shown_points = len(true)
        self._draw_scatter(true, predicted)
        self._draw_residuals(predicted, predicted - true)
        self._show_extremes(figures, dataset)

    def _draw_scatter(self, true: np.ndarray, predicted: np.ndarray) -> None:
        plot = self.scatter.getPlotItem()
        both = np.concatenate([true, predicted])
        both = both[np.isfinite(both)]
        if not both.size:
            return
        lo, hi = float(both.min()), float(both.max())
        pad = 0.05 * (hi - lo) or 1.0
        lo, hi = lo - pad, hi + pad
        diagonal = pg.PlotDataItem(
            [lo, hi], [lo, hi], pen=pg.mkPen((120, 120, 120), width=1, style=Qt.PenStyle.DashLine)
        )
        plot.addItem(diagonal)
        plot.addItem(pg.ScatterPlotItem(true, predicted, size=5, pen=None, brush=pg.mkBrush(*POINT)))
        plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0)

    def _draw_residuals(self, predicted: np.ndarray, residuals: np.ndarray) -> None:
        plot = self.residuals.getPlotItem()
        plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine)))
        plot.addItem(pg.ScatterPlotItem(predicted, residuals, size=5, pen=None, brush=pg.mkBrush(*POINT)))
        finite = residuals[np.isfinite(residuals)]
        if finite.size:
            reach = float(np.abs(finite).max()) * 1.1 or 1.0
            plot.setYRange(-reach, reach, padding=0)  # zero in the middle: too high above, too low below

    def _show_extremes(self, figures: RegressionMetrics, dataset: Dataset | None) -> None:
        """The worst predictions (red) then the best (green), as pictures when the samples are images."""
        rows = [(i, WRONG) for i in figures.worst] + [(i, RIGHT) for i in figures.best if i not in figures.worst]
        x_test = getattr(dataset, "x_test", None) if dataset is not None else None
        shape = tuple(getattr(dataset, "sample_shape", ()) or getattr(dataset, "input_shape", ())) if dataset else ()
        self.extremes_title.setText(
            f"<b>Test samples</b>: the {len(figures.worst)} <span style='color:{WRONG}'>furthest off</span>, then the "
            f"{len(figures.best)} <span style='color:{RIGHT}'>closest</span>."
        )
        if x_test is not None and is_image(shape):
            items = []
            for i, colour in rows:
                picture = raw_sample(dataset, x_test, i)
                items.append((picture, f"{value(figures.predicted[i])}\n(true {value(figures.true[i])})", colour))
            self.extreme_images.set_items(items)
            self.extremes.setCurrentWidget(self.extreme_images)
            return
        vocabulary = vocabulary_of(dataset)
        lines = []
        for i, colour in rows:
            line = (
                f"sample {i}: predicted {value(figures.predicted[i])}, true {value(figures.true[i])} "
                f"(off by {value(abs(figures.residuals[i]))})"
            )
            if x_test is not None and i < len(x_test):
                line += f" · {sample_text(raw_sample(dataset, x_test, i), vocabulary)}"
            lines.append((line, colour))
        self.extreme_text.set_items(lines)
        self.extremes.setCurrentWidget(self.extreme_text)


def is_regression(result: TrainResult, dataset: Dataset | None = None) -> bool:
    """Whether a run predicts numbers (its figures are MAE, RMSE and R², not accuracy): this page, not the
    classes' figures."""
    return getattr(result, "regression", None) is not None or getattr(dataset, "task", "") == "regression"
