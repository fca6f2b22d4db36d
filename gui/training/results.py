"""After a run: test figures, the confusion matrix, per-class accuracy, sample predictions (misclassified
first) or, for 2-D point sets, the decision boundary under the points; and the export buttons. A regression run
shows its own page instead (``gui.training.results_regression``): it has no classes to count right or wrong. What
the tab says in words (the run's figures, the samples' title) is ``gui.training.results_summary``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.files.export_formats import EXPORT_FORMATS
from gui.training.confusion import ConfusionMatrix
from gui.training.results_regression import RegressionResults, is_regression
from gui.training.results_summary import RIGHT, WRONG, samples_title, summary_html
from gui.widgets.images import (
    ImageGrid,
    TextList,
    is_image,
    raw_sample,
    sample_text,
    to_numpy,
    visible_name,
    vocabulary_of,
)
from gui.widgets.preview import add_class_scatter, class_colour, legend_below, scatter_points

if TYPE_CHECKING:
    from core.datasets import Dataset
    from core.training.events import TrainResult

log = logging.getLogger(__name__)
Predict = Callable[[np.ndarray], np.ndarray]  # a batch of samples (network input shape) -> class indices
MAX_SAMPLES = 24
IDLE_SUMMARY = "Train the network to see how well it does on test data it never saw."
NARROW = 760  # below this width the per-class accuracy is a column of the confusion matrix, not a plot


def _short(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class ResultsView(QWidget):
    """Fill with ``show_result(result, dataset, predict)``; the export buttons emit signals."""

    export_requested = Signal(str)  # a format id of core.files.export_formats
    open_folder = Signal()
    filled = Signal()  # every view of the last result is drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(IDLE_SUMMARY)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self._make_figures()
        self._make_examples()
        # In a wide view the per-class bars stand beside the confusion matrix, the height of the dock, one row per
        # class, so the class names read on the left axis in the matrix's order; in a narrow one (a 1280-pixel
        # window) they become a column of the matrix, so the samples or the decision boundary keep a useful width.
        self.per_class.setMinimumSize(170, 120)
        self.confusion.setMinimumSize(150, 120)
        self.figures = QSplitter(Qt.Orientation.Horizontal)
        self.figures.addWidget(self.confusion)
        self.figures.addWidget(self.per_class)
        self.figures.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.figures)
        split.addWidget(self.examples)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(1, 1)  # the sample pictures take what the figures leave
        self.examples.setMinimumWidth(200)
        self.split = split
        self._narrow: bool | None = None
        self.regression = RegressionResults()
        self.pages = QStackedWidget()  # the classification figures, or the regression page in their place
        self.pages.addWidget(split)
        self.pages.addWidget(self.regression)

        buttons = self._export_row()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self.result: TrainResult | None = None
        self.per_class_values = np.zeros(0)
        self._steps: list[Callable[[], Any]] = []
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(0)
        self._step_timer.timeout.connect(self._next_step)
        self.boundary_classes = np.zeros((0, 0), dtype=np.int64)

    def _make_figures(self) -> None:
        """The confusion matrix and the accuracy per class (a plot beside it, or a column of it when narrow)."""
        self.confusion = ConfusionMatrix()
        self.per_class = pg.PlotWidget(background="w")
        pc = self.per_class.getPlotItem()
        pc.setTitle("Accuracy per class", color="#222", size="9pt")
        pc.setLabel("bottom", "accuracy % (test set)")
        pc.invertY(True)  # the first class on top, as in the confusion matrix
        self.class_ticks: list[tuple[int, str]] = []
        self.shown_class_ticks: list[tuple[int, str]] = []  # those on the axis, thinned to fit (the layout tests)
        pc.vb.sigResized.connect(self._thin_class_names)
        pc.setMenuEnabled(False)
        pc.hideButtons()
        pc.setMouseEnabled(False, False)

    def _make_examples(self) -> None:
        """Sample predictions (misclassified first), or the decision boundary of a 2-D point set."""
        self.samples_title = QLabel("")
        self.samples_title.setWordWrap(True)
        self.samples = ImageGrid(tile=48, caption_width=84, caption_lines=2)
        self.sample_lines = TextList()  # samples that are no pictures: their text (token sequences) or values
        self.sample_views = QStackedWidget()
        self.sample_views.addWidget(self.samples)
        self.sample_views.addWidget(self.sample_lines)
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(4, 0, 0, 0)
        box.addWidget(self.samples_title)
        box.addWidget(self.sample_views, 1)
        self.boundary = pg.PlotWidget(background="w")
        bp = self.boundary.getPlotItem()
        bp.setTitle("Decision boundary", color="#222", size="9pt")  # short: the plot may be 250 px wide
        self.boundary.setToolTip("The colour behind the points is the class the network predicts there.")
        bp.setMenuEnabled(False)
        self.examples = QStackedWidget()
        self.examples.addWidget(holder)
        self.examples.addWidget(self.boundary)

    def _export_row(self) -> QHBoxLayout:
        """A button per format of ``core.files.export_formats`` that a run exports, and Open run folder."""
        buttons = QHBoxLayout()
        self.export_buttons: dict[str, QPushButton] = {}  # format id -> button, from core.files.export_formats
        buttons.addWidget(QLabel("Export:"))  # short button texts: the row fits a 1280-pixel window
        for fmt in EXPORT_FORMATS.values():
            if fmt.run_button:
                button = QPushButton(f"{fmt.label[:1].upper()}{fmt.label[1:]}…")
                button.setToolTip(fmt.help)
                button.clicked.connect(lambda _checked=False, fmt_id=fmt.id: self.export_requested.emit(fmt_id))
                buttons.addWidget(button)
                self.export_buttons[fmt.id] = button
        self.weights_button = self.export_buttons["weights"]
        self.script_button = self.export_buttons["script"]
        self.onnx_button = self.export_buttons["onnx"]
        self.folder_button = QPushButton("Open run folder")
        self.folder_button.clicked.connect(self.open_folder.emit)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        self.set_exports_enabled(False)
        return buttons

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = self.width() < NARROW
        if narrow != self._narrow:
            self._narrow = narrow
            # narrow: the per-class accuracy becomes a column of the matrix (a plot would be too short to read)
            self.per_class.setVisible(not narrow)
            self.confusion.set_show_accuracy(narrow)
            self.split.setStretchFactor(0, 1 if narrow else 0)
            width = max(self.width(), 1)
            self.split.setSizes([width * 48 // 100, width * 52 // 100] if narrow else [440, width - 440])
            if not narrow:
                self.figures.setSizes([260, 180])

    def set_exports_enabled(self, enabled: bool) -> None:
        """Formats that write a run's weights, and its folder, wait for a run; the script is always there."""
        for fmt_id, button in self.export_buttons.items():
            if EXPORT_FORMATS[fmt_id].uses_weights:
                button.setEnabled(enabled)
        self.folder_button.setEnabled(enabled)

    def clear(self, summary: str = "Training… the results appear here when the run ends.") -> None:
        self._steps.clear()
        self._step_timer.stop()
        self.result = None
        self.summary.setText(summary)
        self.confusion.clear()
        self.per_class.getPlotItem().clear()
        self.samples.clear()
        self.sample_lines.clear()
        self.samples_title.setText("")
        self.boundary.getPlotItem().clear()
        self.regression.clear()
        self.pages.setCurrentWidget(self.split)
        self.set_exports_enabled(False)

    # -- filling ---------------------------------------------------------------------------------------
    def show_result(self, result: TrainResult, dataset: Dataset | None = None, predict: Predict | None = None) -> None:
        """Show the figures now and draw the plots one per event-loop turn (each takes tens of ms, so the
        window never stalls); ``filled`` is emitted when everything is drawn."""
        self._steps.clear()
        self.result = result
        self.summary.setText(summary_html(result))
        has_run = getattr(result, "run_dir", None) is not None
        self.set_exports_enabled(has_run and result.status != "failed")
        if is_regression(result, dataset):  # no classes: its own page, not an empty matrix and "accuracy –"
            self.pages.setCurrentWidget(self.regression)
            self._steps.append(lambda: self.regression.show_result(result, dataset))
            self._step_timer.start()
            return
        self.pages.setCurrentWidget(self.split)
        names = [visible_name(n) for n in (result.class_names or (dataset.class_names if dataset is not None else []))]
        matrix = np.asarray(result.confusion or [], dtype=np.int64)
        if matrix.ndim == 2 and matrix.size:
            self.confusion.set_matrix(matrix, names)  # cheap to paint: shown at once
        self._steps.append(lambda: self._draw_per_class(list(result.per_class_accuracy or []), names))
        if dataset is not None and predict is not None and getattr(dataset, "x_test", None) is not None:
            if getattr(dataset, "is_2d", False):
                self._steps.append(lambda: self._draw_boundary(dataset, predict, names))
            else:
                wrong = list(result.misclassified or [])
                self._steps.append(lambda: self._draw_samples(dataset, predict, names, wrong))
        self._step_timer.start()

    def _next_step(self) -> None:
        if self._steps:
            step = self._steps.pop(0)
            try:
                step()
            except Exception:  # a view that cannot draw must not hide the run's figures
                log.exception("could not draw a result view")
        if self._steps:
            self._step_timer.start()
        else:
            self.filled.emit()

    def _draw_per_class(self, accuracy: list[float], names: list[str]) -> None:
        plot = self.per_class.getPlotItem()
        plot.clear()
        if not accuracy:
            return
        values = np.array([100 * (a if a == a else 0) for a in accuracy])
        self.per_class_values = values
        brushes = [pg.mkBrush(*class_colour(i)) for i in range(len(values))]
        rows = np.arange(len(values))
        plot.addItem(pg.BarGraphItem(x0=0, y=rows, width=values, height=0.7, brushes=brushes))
        self.class_ticks = [(i, _short(names[i]) if i < len(names) else str(i)) for i in range(len(values))]
        self._thin_class_names()
        plot.getAxis("bottom").setTicks([[(v, str(v)) for v in (0, 50, 100)]])
        plot.setXRange(-6, 118, padding=0)  # room for the 0 and 100 tick labels at the ends
        plot.setYRange(-0.6, len(values) - 0.4, padding=0)

    def _thin_class_names(self, *_: object) -> None:
        """As many class names on the axis as fit one per text line (every second, third… when the plot is short)."""
        if not self.class_ticks:
            return
        axis = self.per_class.getPlotItem().getAxis("left")
        line = QFontMetrics(axis.font()).height()
        room = max(1.0, self.per_class.getPlotItem().vb.height())
        step = max(1, int(np.ceil(len(self.class_ticks) * line / room)))
        self.shown_class_ticks = self.class_ticks[::step]
        axis.setTicks([self.shown_class_ticks])

    def _draw_samples(self, dataset: Dataset, predict: Predict, names: list[str], wrong: list[int]) -> None:
        x_test, y_test = dataset.x_test, to_numpy(dataset.y_test).reshape(-1)
        if x_test is None:  # show_result draws samples only for a dataset that has them
            return
        right = [i for i in range(min(len(y_test), 4 * MAX_SAMPLES)) if i not in set(wrong)]
        order = (wrong + right)[:MAX_SAMPLES]
        if not order:
            return
        predicted = predict(to_numpy(x_test[order]))
        sample_shape = tuple(getattr(dataset, "sample_shape", ()) or dataset.input_shape)
        if not is_image(sample_shape):  # text, token ids or a table row: a line each (they were black squares)
            self._draw_sample_lines(dataset, order, predicted, names, y_test, len(wrong))
            return
        items = []
        for i, p in zip(order, predicted):
            true, pred = int(y_test[i]), int(p)
            ok = true == pred
            caption = _name(names, pred) if ok else f"{_name(names, pred)}\n(true: {_name(names, true)})"
            items.append((to_numpy(x_test[i]).reshape(sample_shape), caption, RIGHT if ok else WRONG))
        self.samples.set_items(items)
        shown_wrong = sum(1 for _, _, c in items if c == WRONG)
        self.samples_title.setText(samples_title(len(wrong), len(y_test), shown_wrong))
        self.sample_views.setCurrentWidget(self.samples)
        self.examples.setCurrentIndex(0)

    def _draw_sample_lines(
        self, dataset: Dataset, order: list[int], predicted: Any, names: list[str], y_test: np.ndarray, wrong: int
    ) -> None:
        """One line per sample: the predicted class (the true one when wrong) and the sample as text, decoded
        through the run's vocabulary when it has one."""
        vocabulary = vocabulary_of(dataset)
        lines = []
        for i, p in zip(order, predicted):
            true, pred = int(y_test[i]), int(p)
            text = sample_text(raw_sample(dataset, dataset.x_test, i), vocabulary)
            if true == pred:
                lines.append((f"✓ {_name(names, pred)}: {text}", RIGHT))
            else:
                lines.append((f"✗ {_name(names, pred)} (true: {_name(names, true)}): {text}", WRONG))
        self.sample_lines.set_items(lines)
        shown_wrong = sum(1 for _, colour in lines if colour == WRONG)
        self.samples_title.setText(samples_title(wrong, len(y_test), shown_wrong, pictures=False))
        self.sample_views.setCurrentWidget(self.sample_lines)
        self.examples.setCurrentIndex(0)

    def _draw_boundary(self, dataset: Dataset, predict: Predict, names: list[str], resolution: int = 160) -> None:
        xs, ys = scatter_points(dataset.x_test, dataset.y_test)
        train_xs, _ = scatter_points(dataset.x_train, dataset.y_train)
        everything = np.concatenate([xs, train_xs])
        lo, hi = everything.min(axis=0), everything.max(axis=0)
        pad = 0.1 * (hi - lo + 1e-9)
        lo, hi = lo - pad, hi + pad
        gx = np.linspace(lo[0], hi[0], resolution)
        gy = np.linspace(lo[1], hi[1], resolution)
        mesh = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2).astype(np.float32)
        classes = np.asarray(predict(mesh)).reshape(resolution, resolution)  # [row=y, col=x]
        colours = np.array([class_colour(c, 80) for c in range(max(int(classes.max()) + 1, len(names), 1))])
        rgba = colours[classes].astype(np.ubyte)  # [y, x, 4]
        plot = self.boundary.getPlotItem()
        plot.clear()
        legend_below(plot, len(names))
        image = pg.ImageItem(np.transpose(rgba, (1, 0, 2)))
        image.setRect(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        plot.addItem(image)
        add_class_scatter(plot, xs, ys, names, size=6)
        plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
        self.boundary_classes = classes
        self.examples.setCurrentIndex(1)


def _name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)
