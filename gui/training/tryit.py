"""Try it: use the run's trained network at once — draw a digit, drop an image, pick a test sample, click a point of
a 2-D set, edit a table row, or type a sentence (token ids when the data has no vocabulary) — and see the predicted
class with a live bar chart of the class probabilities (a regression: the predicted number).

Only the run currently shown is tried, and its model exists only while this tab has been opened for it: the
network is rebuilt from the project's generated code with the run folder's last.pt (best.pt when last.pt is torn,
``core.files.built_model.build_model``), so the trainer can still be released when the run ends, and the model is
dropped when another run is shown. Every sample goes through ``core.portable.inference.predict``: the training's
own resize and normalisation, and the very function the exported script's ``predict(image)`` is. A forward pass of
the examples takes milliseconds and runs on the GUI thread; a big network (over BIG_PARAMS parameters, or a
forward pass over SLOW_MS) runs in a background thread, the newest request replacing any waiting one. An image
file (dropped or opened) is always read in a background thread (``gui.training.tryit_image``).

The pages the user gives a sample on are ``gui.training.tryit_inputs.InputPages``; the answer (the predicted class,
the bars, why this prediction) is ``gui.training.tryit_answer.AnswerPanel``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.training.tryit_answer import AnswerPanel
from gui.training.tryit_image import channels_first
from gui.training.tryit_inputs import InputPages
from gui.training.tryit_model import (
    TrySource,
    build,
    class_name,
    encode_typed,
    feature_names,
    how_to,
    probabilities,
    weights_bytes,
)
from gui.widgets.background import Background
from gui.widgets.images import to_numpy

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
        self.true_value: float | None = None  # a regression test sample's target, while it is the one shown
        self._test_sample: np.ndarray | None = None
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
        self.inputs = InputPages()  # one page per kind of data
        self.pages = self.inputs.pages
        self.image_page = self.inputs.image_page
        self.image_page.drawn.connect(self._pad_changed)
        self.image_page.image_chosen.connect(self.load_image)
        self.image_page.file_read.connect(self._image_read)
        self.image_page.file_failed.connect(self._image_failed)
        self.pad = self.image_page.pad
        self.points = self.inputs.points
        self.points.clicked.connect(self._point_clicked)
        self.marker = self.points.marker
        self.table_page = self.inputs.table_page
        self.table_page.edited.connect(self._features_changed)
        self.samples_page = self.inputs.samples_page
        self.text_page = self.inputs.text_page
        self.text_page.typed.connect(self._text_typed)
        self.answer = AnswerPanel()
        self.prediction, self.bars, self.why = self.answer.prediction, self.answer.bars, self.answer.why
        self.columns: list[str] = []  # a table's (or 2-D set's) names for the why bars
        self._arrange()
        self._enable(False)

    @property
    def probs(self) -> np.ndarray:
        return self.answer.probs

    @property
    def predicted_class(self) -> int | None:
        return self.answer.predicted_class

    @property
    def bar_item(self) -> Any:
        return self.bars.bar_item

    @property
    def feature_spins(self) -> list[QDoubleSpinBox]:
        return self.table_page.spins

    def _sample_row(self) -> QHBoxLayout:
        self.sample_spin = QSpinBox()
        self.sample_spin.setToolTip("A sample of the test split (the network never trained on it)")
        self.sample_spin.valueChanged.connect(self.show_test_sample)
        self.random_button = QPushButton("Random")
        self.random_button.clicked.connect(self.random_sample)
        self.true_label = QLabel("")
        row = QHBoxLayout()
        row.addWidget(QLabel("Test sample"))
        row.addWidget(self.sample_spin)
        row.addWidget(self.random_button)
        row.addWidget(self.true_label, 1)
        return row

    def _arrange(self) -> None:
        """The note on top; the inputs and the test sample row on the left, the answer on the right."""
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.inputs, 1)
        left_box.addLayout(self._sample_row())
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.answer)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([380, 620])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.split, 1)

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
        self._request += 1  # a background answer (a prediction, a model, an image file) on its way is ignored
        self.loading = False
        self.image_page.forget_file()
        self.source = None
        self.model = None
        self._sample = self._test_sample = None
        self.true_value = None
        self.answer.clear()
        self.true_label.setText("")
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
            + how_to(source.kind)
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
        self.answer.setup(source)
        if source.kind == "table":
            self.columns = feature_names(source.project.training.dataset, source.sample_shape[0])
        else:
            self.columns = ["x", "y"] if source.kind == "points" else []
        self.inputs.fill(source, self.model, boundary=not self.background_mode)

    # -- inputs ----------------------------------------------------------------------------------------
    def show_test_sample(self, index: int) -> None:
        source = self.source
        if source is None or self.model is None or not 0 <= index < len(source.x_test):
            return
        sample = self._test_sample = source.raw_sample(index)
        true = to_numpy(source.y_test[index : index + 1]).reshape(-1)
        if source.regression:
            self.true_value = float(true[0])
            self.true_label.setText(f"true value: {self.true_value:.4g}")
        else:
            self.true_label.setText(f"true class: <b>{class_name(source.class_names, int(true[0]))}</b>")
        self.inputs.show_sample(source, sample, index)
        self.predict(sample)

    def random_sample(self) -> None:
        if self.source is not None:
            self.sample_spin.setValue(int(np.random.default_rng().integers(len(self.source.x_test))))

    def choose_point(self, x: float, y: float) -> None:
        """A point of the 2-D plane, in the data's own coordinates (normalised like the training data)."""
        self.marker.setData([x], [y])
        self.true_label.setText("")
        self.predict(np.array([x, y], dtype=np.float32))

    def _point_clicked(self, x: float, y: float) -> None:
        if self.source is not None and self.model is not None and self.source.kind == "points":
            self.choose_point(x, y)

    def _features_changed(self) -> None:
        self.true_label.setText("")
        self.predict(self.table_page.values())

    def type_text(self, text: str) -> None:
        """As if ``text`` were typed into the text page (a sentence, or token ids)."""
        self.text_page.edit.setText(text)
        self._text_typed()

    def _text_typed(self) -> None:
        source = self.source
        if source is None or self.model is None or source.kind != "text":
            return
        self.true_label.setText("")
        try:
            ids = encode_typed(self.text_page.edit.text(), source)
        except ValueError as exc:
            self.answer.say(str(exc))
            return
        self.text_page.show_ids(ids)
        self.predict(ids)

    def _pad_changed(self) -> None:
        if self.source is not None and self.model is not None:
            self.true_label.setText("")
            self.predict(self.source.new_image(channels_first(self.pad.array())))

    def load_image(self, path: str) -> None:
        """An image file dropped on the pad (or opened): read in a background thread, then shown on the pad and
        predicted like a drawing (unless another input came first)."""
        if self.source is None or self.model is None or self.source.kind != "image":
            return
        self.true_label.setText(f"reading {Path(path).name}…")
        self.image_page.read_file(path, self.source.image_file)  # the file resized as the training resized its

    def _image_read(self, path: str, picture: np.ndarray, sample: np.ndarray | None = None) -> None:
        if self.model is not None and self.source is not None:
            self.image_page.show_array(picture)
            self.true_label.setText(Path(path).name)
            self.predict(self.source.new_image(channels_first(picture)) if sample is None else sample)

    def _image_failed(self, message: str) -> None:
        self.true_label.setText("")  # not the previous file's name under a picture that failed
        self.answer.say(message)

    # -- predicting --------------------------------------------------------------------------------------
    def predict(self, sample: np.ndarray) -> None:
        """Predict ``sample`` now, or in the background for a big network (the newest request wins)."""
        source, model = self.source, self.model
        if source is None or model is None:
            return
        if sample is not self._test_sample:
            self.true_value = None  # a drawing, a click or an edit: no true value to compare with
        self._sample = sample
        self._request += 1
        self.image_page.forget_file()  # this input is newer than any image file still being read
        if source.kind == "image":
            seen = self.image_page.show_seen(source, sample)
            if seen is not None:
                self.seen_input = seen
        if self.background_mode:
            self._worker.submit(self._request, lambda: probabilities(model, source, sample))
            return
        try:
            result: Any = probabilities(model, source, sample)
        except Exception as exc:
            result = exc
        self._show(result)

    def _background_done(self, number: int, result: Any) -> None:
        if number == self._request and self.source is not None:
            self._show(result)

    def _show(self, result: Any) -> None:
        source = self.source
        if source is None:
            return
        if isinstance(result, Exception):
            log.error("Try it could not predict: %s", result, exc_info=result)
            self.answer.say(
                f"The network could not take this input: {result}. Try a test sample, or check the Input shape."
            )
            return
        values = np.asarray(result, dtype=np.float64).reshape(-1)
        self.answer.show_values(source, values, self.true_value)
        self.predicted.emit(values)
        self.explain()

    def explain(self) -> None:
        """Why this prediction, for the sample just predicted (the answer panel's why, in its own thread)."""
        source, model, sample = self.source, self.model, self._sample
        if source is None or model is None or sample is None:
            return
        picture = self.seen_input if source.kind == "image" and self.seen_input.size else None
        self.answer.explain(source, model, sample, picture, self.columns)
