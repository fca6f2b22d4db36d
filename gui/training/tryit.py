"""Try it: use the run's trained network at once — draw a digit, drop an image, pick a test sample, click a point of
a 2-D set, or edit a table row — and see the predicted class with a live bar chart of the class probabilities.

Only the run currently shown is tried, and its model exists only while this tab has been opened for it: the
network is rebuilt from the project's generated code with the run folder's last.pt (best.pt when last.pt is torn,
``core.files.built_model.build_model``), so the trainer can still be released when the run ends, and the model is
dropped when another run is shown. Every sample goes through ``core.portable.inference.predict``: the training's
own resize and normalisation, and the very function the exported script's ``predict(image)`` is. A forward pass of
the examples takes milliseconds and runs on the GUI thread; a big network (over BIG_PARAMS parameters, or a
forward pass over SLOW_MS) runs in a background thread, the newest request replacing any waiting one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.training.drawpad import DrawPad, read_image_file
from gui.training.images import sample_pixmap, to_numpy
from gui.training.preview import add_class_scatter, class_colour
from gui.training.tryit_model import Background, TrySource, build, probabilities, weights_bytes

log = logging.getLogger(__name__)
BIG_PARAMS = 5_000_000
SLOW_MS = 30.0
HINT = "Train the network: when the run ends, try it here on your own drawings, test samples or values."


class TryItView(QWidget):
    """Fill with ``set_run(project, run_dir, data)``; the model is built when the tab is first shown."""

    predicted = Signal(object)  # the newest probabilities, once shown
    loaded = Signal()  # the run's model is built and the first test sample shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source: TrySource | None = None
        self.model: Any = None
        self.background_mode = False
        self.forward_ms: float | None = None
        self.probs = np.zeros(0)
        self.predicted_class: int | None = None
        self._sample: np.ndarray | None = None
        self.seen_input = np.zeros(0)  # the newest image sample at the Input size
        self._request = 0
        self._worker = Background()
        self._worker.done.connect(self._background_done)
        self._worker.built.connect(self._loaded)
        self.loading = False

        self.note = QLabel(HINT)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")

        # inputs: one page per kind of data
        self.pad = DrawPad()
        self.pad.changed.connect(self._pad_changed)
        self.pad.file_dropped.connect(self.load_image)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.pad.clear)
        open_image = QPushButton("Open image…")
        open_image.setToolTip("Use a picture file (it is resized and converted like the training images)")
        open_image.clicked.connect(self._open_image)
        pad_page = QWidget()
        pad_box = QVBoxLayout(pad_page)
        pad_box.setContentsMargins(0, 0, 0, 0)
        pad_box.addWidget(self.pad, 1)
        self.seen = QLabel()  # the drawing at the Input size: what the network is given
        self.seen.setToolTip("What the network sees: the drawing resized to the Input size, as the training images")
        pad_row = QHBoxLayout()
        pad_row.addWidget(clear)
        pad_row.addWidget(open_image)
        pad_row.addStretch(1)
        pad_row.addWidget(QLabel("Network input:"))
        pad_row.addWidget(self.seen)
        pad_box.addLayout(pad_row)

        self.points = pg.PlotWidget(background="w")
        points = self.points.getPlotItem()
        points.setTitle("Click a point", color="#222", size="9pt")
        points.setMenuEnabled(False)
        points.hideButtons()
        points.setMouseEnabled(False, False)
        self.points.scene().sigMouseClicked.connect(self._plot_clicked)
        self.marker = pg.ScatterPlotItem(size=16, symbol="x", pen=pg.mkPen("#111", width=3), brush=None)
        self.points.setToolTip("Click anywhere: the network's prediction for that point is shown on the right.")

        self.table_page = QWidget()
        self.table_form = QFormLayout(self.table_page)
        self.feature_spins: list[QDoubleSpinBox] = []

        self.samples_page = QLabel("Pick a test sample below to see what the network predicts for it.")
        self.samples_page.setWordWrap(True)
        self.samples_page.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.inputs = QStackedWidget()
        self.pages = {"image": pad_page, "points": self.points, "table": self.table_page, "samples": self.samples_page}
        for page in self.pages.values():
            self.inputs.addWidget(page)

        self.sample_spin = QSpinBox()
        self.sample_spin.setToolTip("A sample of the test split (the network never trained on it)")
        self.sample_spin.valueChanged.connect(self.show_test_sample)
        self.random_button = QPushButton("Random")
        self.random_button.clicked.connect(self.random_sample)
        self.true_label = QLabel("")
        sample_row = QHBoxLayout()
        sample_row.addWidget(QLabel("Test sample"))
        sample_row.addWidget(self.sample_spin)
        sample_row.addWidget(self.random_button)
        sample_row.addWidget(self.true_label, 1)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.inputs, 1)
        left_box.addLayout(sample_row)

        self.prediction = QLabel("")
        self.prediction.setTextFormat(Qt.TextFormat.RichText)
        self.prediction.setWordWrap(True)
        self.bars = pg.PlotWidget(background="w")
        bars = self.bars.getPlotItem()
        bars.setTitle("Class probabilities", color="#222", size="9pt")
        bars.setMenuEnabled(False)
        bars.hideButtons()
        bars.setMouseEnabled(False, False)
        bars.setYRange(0, 1.05, padding=0)
        bars.getAxis("left").setTicks([[(v, f"{int(100 * v)}%") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.bar_item: pg.BarGraphItem | None = None
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.prediction)
        right_box.addWidget(self.bars, 1)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([380, 620])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.split, 1)
        self._enable(False)

    # -- the run ---------------------------------------------------------------------------------------
    def set_run(self, project: Any, run_dir: str | Path | None, data: Any) -> None:
        """Try this run from now on (the previous run's model is dropped); built at once if the tab is open."""
        self.clear()
        if run_dir is None or project is None:
            return
        self.source = TrySource.of_run(project, run_dir, data)
        if self.source is None:
            self.note.setText("This run kept no test samples, so there is nothing to try it on.")
            return
        self.note.setText("Open this tab to try the trained network.")
        if self.isVisible():
            self.load()

    def clear(self, message: str = HINT) -> None:
        """Forget the run: its model, its test split and what is shown."""
        self._request += 1  # a background answer (a prediction, a model) still on its way is ignored
        self.loading = False
        self.source = None
        self.model = None
        self._sample = None
        self.probs = np.zeros(0)
        self.predicted_class = None
        self.prediction.setText("")
        self.true_label.setText("")
        self.bars.getPlotItem().clear()
        self.bar_item = None
        self.points.getPlotItem().clear()
        self.note.setText(message)
        self._enable(False)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.source is not None and self.model is None and not self.loading:
            self.load()

    def load(self) -> bool:
        """Build the run's network with its final weights (eval mode) and show the first test sample; a big
        weights file (a network over BIG_PARAMS parameters) is read and built in a background thread, and
        ``loaded`` tells when it is ready. Returns whether the model is ready now."""
        source = self.source
        if source is None:
            return False
        self._request += 1
        number = self._request
        if weights_bytes(source.run_dir) > 4 * BIG_PARAMS:
            self.loading = True
            self.note.setText("Loading the trained network…")
            self._enable(False)
            self._worker.submit(number, lambda: build(source), kind="load")
            return False
        try:
            result: Any = build(source)
        except Exception as exc:
            result = exc
        return self._loaded(number, result)

    def _loaded(self, number: int, result: Any) -> bool:
        """The model (with its forward time) or the exception of building it, for request ``number``."""
        self.loading = False
        source = self.source
        if number != self._request or source is None:
            return False  # another run is shown by now: this model is not needed
        if isinstance(result, Exception):  # an ExportError is already plain words; anything else is summarised
            log.error("Try it could not load the run's weights: %s", result, exc_info=result)
            self.note.setText(f"The trained network could not be loaded from {source.run_dir}: {result}")
            self._enable(False)
            return False
        built, self.forward_ms = result
        self.model = built.module
        params = sum(p.numel() for p in self.model.parameters())
        self.background_mode = params > BIG_PARAMS or self.forward_ms > SLOW_MS
        weights = built.weights.name if built.weights is not None else "its weights"
        self.note.setText(
            f"The network of run <b>{source.run_dir.name}</b> with {weights} ({params:,} parameters). "
            + _how_to(source.kind)
            + (f" {built.weights_note}" if built.weights_note else "")
        )
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self._fill_inputs(source)
        self._enable(True)
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(0, len(source.x_test) - 1)
        self.sample_spin.setValue(0)
        self.sample_spin.blockSignals(False)
        self.show_test_sample(0)
        self.loaded.emit()
        return True

    def _enable(self, on: bool) -> None:
        for widget in (self.split,):
            widget.setEnabled(on)

    def _fill_inputs(self, source: TrySource) -> None:
        self.inputs.setCurrentWidget(self.pages[source.kind])
        self._setup_bars(source)
        if source.kind == "image":
            self.pad.set_sample_side(int(source.sample_shape[-1]))
        elif source.kind == "points":
            self._draw_points(source)
        elif source.kind == "table":
            self._make_feature_spins(source)

    def _setup_bars(self, source: TrySource) -> None:
        plot = self.bars.getPlotItem()
        plot.clear()
        self.bar_item = None
        if source.regression:
            plot.hide()
            return
        plot.show()
        count = max(len(source.class_names), 2)
        names = source.class_names or [str(i) for i in range(count)]
        brushes = [pg.mkBrush(*class_colour(i)) for i in range(count)]
        self.bar_item = pg.BarGraphItem(x=np.arange(count), height=np.zeros(count), width=0.7, brushes=brushes)
        plot.addItem(self.bar_item)
        step = max(1, int(np.ceil(count / 20)))
        plot.getAxis("bottom").setTicks([[(i, _short(names[i])) for i in range(0, count, step)]])
        plot.setXRange(-0.6, count - 0.4, padding=0)
        plot.setYRange(0, 1.05, padding=0)

    def _draw_points(self, source: TrySource) -> None:
        plot = self.points.getPlotItem()
        plot.clear()
        xs = np.stack([source.raw_sample(i) for i in range(min(len(source.x_test), 2000))])
        ys = to_numpy(source.y_test)[: len(xs)].reshape(-1).astype(np.int64)
        lo, hi = xs.min(axis=0).astype(np.float64), xs.max(axis=0).astype(np.float64)  # float32 overflows pyqtgraph
        pad = 0.15 * (hi - lo + 1e-9)
        lo, hi = lo - pad, hi + pad
        if not source.regression and not self.background_mode:  # one batch: milliseconds for a small network
            try:
                plot.addItem(self._boundary(source, lo, hi))
            except Exception:  # only a backdrop: the points and the clicks work without it
                log.exception("Try it could not draw the decision boundary")
        add_class_scatter(plot, xs, ys, source.class_names, size=6)
        self.marker.setData([], [])
        plot.addItem(self.marker)
        plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)

    def _boundary(self, source: TrySource, lo: np.ndarray, hi: np.ndarray, resolution: int = 80) -> pg.ImageItem:
        """The predicted class over the plane, faint behind the points: where a click lands."""
        import torch

        from core.portable.steps import classes_of

        grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)), -1)
        mesh = torch.as_tensor(grid.reshape(-1, 2), dtype=torch.float32)
        if source.mean is not None and source.std is not None:  # as prepare() normalised the training points
            mesh = (mesh - source.mean.cpu()) / source.std.cpu()
        with torch.no_grad():
            classes = classes_of(self.model(mesh.reshape(-1, *source.input_shape)).float(), source.loss)
        classes_np = classes.numpy().reshape(resolution, resolution)  # [row=y, col=x]
        colours = np.array([class_colour(c, 70) for c in range(max(int(classes_np.max()) + 1, 1))], dtype=np.ubyte)
        image = pg.ImageItem(np.transpose(colours[classes_np], (1, 0, 2)))
        image.setRect(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        return image

    def _make_feature_spins(self, source: TrySource) -> None:
        while self.table_form.rowCount():
            self.table_form.removeRow(0)
        self.feature_spins = []
        values = np.stack([source.raw_sample(i) for i in range(len(source.x_test))])
        spread = np.maximum(values.max(axis=0) - values.min(axis=0), 1e-6)
        for column in range(source.sample_shape[0]):
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(-1e6, 1e6)
            spin.setSingleStep(float(10 ** np.floor(np.log10(spread[column] / 10))))
            spin.valueChanged.connect(self._features_changed)
            self.table_form.addRow(f"feature {column + 1}", spin)  # the datasets carry no column names
            self.feature_spins.append(spin)

    # -- inputs ----------------------------------------------------------------------------------------
    def show_test_sample(self, index: int) -> None:
        source = self.source
        if source is None or self.model is None or not 0 <= index < len(source.x_test):
            return
        sample = source.raw_sample(index)
        true = to_numpy(source.y_test[index : index + 1]).reshape(-1)
        if source.regression:
            self.true_label.setText(f"true value: {float(true[0]):.4g}")
        else:
            self.true_label.setText(f"true class: <b>{_name(source.class_names, int(true[0]))}</b>")
        if source.kind == "image":
            self.pad.blockSignals(True)
            self.pad.set_array(sample)
            self.pad.blockSignals(False)
        elif source.kind == "points":
            self.marker.setData([float(sample[0])], [float(sample[1])])
        elif source.kind == "table":
            self._set_features(sample)
        else:
            self.samples_page.setText(_describe(sample, index))
        self.predict(sample)

    def random_sample(self) -> None:
        if self.source is not None:
            self.sample_spin.setValue(int(np.random.default_rng().integers(len(self.source.x_test))))

    def choose_point(self, x: float, y: float) -> None:
        """A point of the 2-D plane, in the data's own coordinates (normalised like the training data)."""
        self.marker.setData([x], [y])
        self.true_label.setText("")
        self.predict(np.array([x, y], dtype=np.float32))

    def _plot_clicked(self, event: Any) -> None:
        if self.source is None or self.model is None or self.source.kind != "points":
            return
        view = self.points.getPlotItem().vb
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        self.choose_point(float(point.x()), float(point.y()))

    def _set_features(self, values: np.ndarray) -> None:
        for spin, value in zip(self.feature_spins, values):
            spin.blockSignals(True)
            spin.setValue(float(value))
            spin.blockSignals(False)

    def _features_changed(self) -> None:
        self.true_label.setText("")
        self.predict(np.array([spin.value() for spin in self.feature_spins], dtype=np.float32))

    def _pad_changed(self) -> None:
        if self.source is not None and self.model is not None:
            self.true_label.setText("")
            self.predict(self.pad.array())

    def load_image(self, path: str) -> None:
        """An image file dropped on the pad (or opened): shown there, then predicted like a drawing."""
        if self.source is None or self.model is None or self.source.kind != "image":
            return
        try:
            picture = read_image_file(path)
        except ValueError as exc:
            self.prediction.setText(f"<span style='color:#c62828'>{exc}</span>")
            return
        self.pad.blockSignals(True)
        self.pad.set_array(picture)
        self.pad.blockSignals(False)
        self.true_label.setText(Path(path).name)
        self.predict(picture)

    def _open_image(self) -> None:
        path = ask_image_path(self)
        if path:
            self.load_image(path)

    # -- predicting --------------------------------------------------------------------------------------
    def predict(self, sample: np.ndarray) -> None:
        """Predict ``sample`` now, or in the background for a big network (the newest request wins)."""
        source, model = self.source, self.model
        if source is None or model is None:
            return
        self._sample = sample
        self._request += 1
        if source.kind == "image":
            self._show_seen(source, sample)
        if self.background_mode:
            self._worker.submit(self._request, lambda: probabilities(model, source, sample))
            return
        try:
            result: Any = probabilities(model, source, sample)
        except Exception as exc:
            result = exc
        self._show(result)

    def _show_seen(self, source: TrySource, sample: np.ndarray) -> None:
        """The sample at the Input size (the training's resize and channels, before normalisation)."""
        from core.portable.inference import preprocess

        try:
            seen = preprocess(sample, None, None, source.sample_shape, source.image_size)[0].numpy()
        except Exception:  # only a picture: the prediction says what went wrong
            log.debug("no input preview", exc_info=True)
            return
        self.seen_input = seen
        self.seen.setPixmap(sample_pixmap(np.clip(seen, 0, 1), size=56))

    def _background_done(self, number: int, result: Any) -> None:
        if number == self._request and self.source is not None:
            self._show(result)

    def _show(self, result: Any) -> None:
        source = self.source
        if source is None:
            return
        if isinstance(result, Exception):
            log.error("Try it could not predict: %s", result, exc_info=result)
            self.prediction.setText(
                f"<span style='color:#c62828'>The network could not take this input: {result}. "
                "Try a test sample, or check the Input shape.</span>"
            )
            return
        values = np.asarray(result, dtype=np.float64).reshape(-1)
        if source.regression:
            self.probs = values
            self.predicted_class = None
            shown = ", ".join(f"{v:.4g}" for v in values[:8])
            self.prediction.setText(f"Predicted value: <b style='font-size:16pt'>{shown}</b>")
        else:
            self.probs = values
            best = int(values.argmax()) if len(values) else 0
            self.predicted_class = best
            self.prediction.setText(
                f"Predicted: <b style='font-size:18pt'>{_name(source.class_names, best)}</b> "
                f"&nbsp; ({100 * values[best]:.1f}% sure)"
            )
            if self.bar_item is not None and len(values) == len(self.bar_item.opts["brushes"]):
                self.bar_item.setOpts(height=values)
        self.predicted.emit(values)


def ask_image_path(parent: QWidget) -> str:
    """The image file to try (tests replace this: a dialog offscreen would wait forever)."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Try an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)"
    )
    return path


def _how_to(kind: str) -> str:
    return {
        "image": "Draw on the black square (right-click clears), drop an image file, or pick a test sample.",
        "points": "Click anywhere on the plot, or pick a test sample.",
        "table": "Edit the feature values, or pick a test sample.",
        "samples": "Pick a test sample.",
    }[kind]


def _describe(sample: np.ndarray, index: int) -> str:
    """A test sample that has no picture: its token ids, or its shape and first values."""
    values = np.asarray(sample).reshape(-1)
    if values.dtype.kind in "iu":
        head = " ".join(str(int(v)) for v in values[:40])
        return f"Test sample {index}: token ids {head}{' …' if len(values) > 40 else ''}"
    head = ", ".join(f"{float(v):.3g}" for v in values[:12]) + (" …" if len(values) > 12 else "")
    return f"Test sample {index} (shape {list(np.shape(sample))}, as the network gets it): {head}"


def _name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)


def _short(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
