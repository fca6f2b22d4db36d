"""The training form: dataset (with a preview), how to train, the Train/Pause/Resume/Stop buttons, the progress
bar and a Keras-like log. Every change edits the project's ``TrainingSettings`` through the undo stack; the
form mirrors the settings back whenever the project says they changed (``Project.training_changed``: an edit, its
undo or redo) or a project is opened."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.settings import LOSSES, OPTIMIZERS, SCHEDULERS, TrainingSettings
from gui.commands.training import SetTrainingSettings, push
from gui.panels.wrapping import WrappingScroll, let_wrap
from gui.training.panel_choices import OPEN_FILE, SCHEDULER_LABELS, builtin_datasets, device_choices, file_source
from gui.training.panel_text import format_duration, keras_line, paused_line, result_line, short_spec
from gui.training.preview import DatasetPreview

__all__ = ["OPEN_FILE", "TrainingPanel"]


class TrainingPanel(QWidget):
    """Signals ask the dashboard to act; the panel itself never starts a thread."""

    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    dataset_chosen = Signal(str)  # the user picked another dataset (spec), or the unloadable one again
    availability_changed = Signal(bool, str)  # can Train start now; else the reason (for the toolbar's Train)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Any = None
        self.stack: QUndoStack | None = None
        self.project_path: Any = None
        self._blocking = False
        self._graph_problem: str | None = None
        self._data_problem: str | None = None
        self._state = "idle"
        self._run_message = ""  # why the last run failed, shown under the buttons until the next run
        self._last_progress = ""  # the progress text before a pause, to show it again without its ETA
        self._log_follows = True  # the log keeps its newest line in view unless the user scrolled up
        self._epoch_started = 0.0
        self._build()

    # -- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        data_box = QGroupBox("1. Data")
        data_form = QFormLayout(data_box)
        self.dataset = QComboBox()
        self.dataset.setEditable(False)
        for label, spec in builtin_datasets():
            self.dataset.addItem(label, spec)
        self.dataset.addItem(OPEN_FILE, OPEN_FILE)
        self.dataset.setToolTip("The data to train on. Built-in sets need no download; or open a .npz file.")
        self.dataset.activated.connect(self._dataset_activated)
        data_form.addRow("Dataset", self.dataset)
        self.data_note = QLabel("")  # why the dataset just chosen could not be used, and what to do
        self.data_note.setWordWrap(True)
        self.data_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_note.setStyleSheet("color: #b00020;")
        self.data_note.hide()
        data_form.addRow(self.data_note)
        self.preview = DatasetPreview()
        data_form.addRow(self.preview)
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0, 90)
        self.val_fraction.setDecimals(0)
        self.val_fraction.setSuffix(" % of training data")
        self.val_fraction.setToolTip("Held out from training to check the model on data it has not learned from.")
        self.val_fraction.valueChanged.connect(lambda v: self._set("val_fraction", round(v / 100, 4)))
        data_form.addRow("Validation", self.val_fraction)

        how_box = QGroupBox("2. How to train")
        form = QFormLayout(how_box)
        self.loss = QComboBox()
        self.loss.addItems(LOSSES)
        self.loss.setToolTip("CrossEntropyLoss for classes; NLLLoss after a LogSoftmax layer; MSELoss for numbers.")
        self.loss.currentTextChanged.connect(lambda t: self._set("loss", t))
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.optimizer.setToolTip("How the weights are updated. Adam is a good default.")
        self.optimizer.currentTextChanged.connect(lambda t: self._set("optimizer", t))
        self.lr = QLineEdit()
        self.lr.setToolTip("Learning rate: the size of each update step. Try 0.001 for Adam, 0.01–0.1 for SGD.")
        self.lr.editingFinished.connect(self._lr_edited)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1_000_000)
        self.batch_size.setToolTip("How many samples the network sees per update step.")
        self.batch_size.valueChanged.connect(lambda v: self._set("batch_size", v))
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.epochs.setToolTip("How many times to go through the whole training set.")
        self.epochs.valueChanged.connect(lambda v: self._set("epochs", v))
        self.scheduler = QComboBox()
        for value in SCHEDULERS:
            self.scheduler.addItem(SCHEDULER_LABELS.get(value, value), value)
        self.scheduler.setToolTip("Whether and how the learning rate shrinks during training.")
        self.scheduler.currentIndexChanged.connect(lambda _: self._set("scheduler", self.scheduler.currentData()))
        early = QWidget()  # a parent from the start, so the pair is owned by the form, not by Python
        self.early_stop = QCheckBox("Stop if no better for", early)
        self.patience = QSpinBox(early)
        self.patience.setRange(1, 1000)
        self.patience.setSuffix(" epochs")
        self.early_stop.setToolTip("Early stopping: end training when the validation loss stops improving.")
        self.early_stop.toggled.connect(self._early_stop_edited)
        self.patience.valueChanged.connect(lambda _: self._early_stop_edited())
        early_row = QHBoxLayout(early)
        early_row.setContentsMargins(0, 0, 0, 0)
        early_row.addWidget(self.early_stop)
        early_row.addWidget(self.patience, 1)
        self.device = QComboBox()
        for label, value in device_choices():
            self.device.addItem(label, value)
        self.device.setToolTip("Where the maths runs. Auto picks a GPU when one is available.")
        self.device.currentIndexChanged.connect(lambda _: self._set("device", self.device.currentData()))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Fixes the random start so the same settings give the same result.")
        self.seed.valueChanged.connect(lambda v: self._set("seed", v))
        self.fine_tune = QCheckBox("Start from the imported weights (fine-tune)")
        self.fine_tune.setToolTip(
            "On: training starts from the weights imported with the model. Off: from fresh random weights."
        )
        self.fine_tune.toggled.connect(lambda on: self._set("fine_tune", on))
        # The settings a beginner changes most come first, so they are in view without scrolling.
        for label, field in (
            ("Epochs", self.epochs),
            ("Learning rate", self.lr),
            ("Optimizer", self.optimizer),
            ("Batch size", self.batch_size),
            ("Loss", self.loss),
            ("LR schedule", self.scheduler),
            ("Early stopping", early),
            ("Device", self.device),
            ("Seed", self.seed),
            ("Weights", self.fine_tune),
        ):
            form.addRow(label, field)
        self.settings_form = form
        form.setRowVisible(self.fine_tune, False)  # only an imported project has initial weights to start from
        self.settings_note = QLabel("")
        self.settings_note.setWordWrap(True)
        self.settings_note.setStyleSheet("color: #555;")
        form.addRow(self.settings_note)

        run_box = QGroupBox("3. Train")  # always in view, below the scrolling settings
        run_layout = QVBoxLayout(run_box)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("▶ Train")
        self.train_button.setStyleSheet("font-weight: bold;")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("■ Stop")
        for button, signal in (
            (self.train_button, self.train_clicked),
            (self.pause_button, self.pause_clicked),
            (self.resume_button, self.resume_clicked),
            (self.stop_button, self.stop_clicked),
        ):
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
        run_layout.addLayout(buttons)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #b00020;")
        let_wrap(self.reason)
        reason_scroll = _scrolling(self.reason, stretch=False)  # a long reason scrolls; the buttons stay in view
        reason_scroll.setMinimumSize(1, 1)  # not a scroll area's usual minimum: an empty reason takes no room
        reason_scroll.setMaximumHeight(5 * self.reason.fontMetrics().lineSpacing() + 4)
        reason_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.reason_scroll = reason_scroll
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.progress.setTextVisible(True)
        run_layout.addWidget(self.progress)
        run_layout.addWidget(reason_scroll)  # under the progress bar, so an empty reason leaves no gap above it
        run_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # the settings get the rest
        # The Keras-like log belongs to the panel but is shown under the curves (the dashboard places it).
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(10_000)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setPlaceholderText("One line per epoch appears here while training, as Keras prints it.")
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # a failure message is read in full
        self.log.setMinimumHeight(3 * self.log.fontMetrics().lineSpacing() + 12)  # the curves above get the rest
        self.log.verticalScrollBar().valueChanged.connect(self._log_scrolled)
        self.log.installEventFilter(self)

        # Two columns, because the dock is wide and short: "1. Data" on the left; "2. How to train" (the settings
        # changed most come first) over "3. Train" on the right, so epochs, learning rate, optimizer and batch size
        # are in view without scrolling however long a data message is.
        for box_form in (data_form, form):
            box_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            box_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        data_scroll = _scrolling(data_box)
        how_scroll = _scrolling(how_box)
        key_rows = (self.epochs, self.lr, self.optimizer, self.batch_size)
        top, bottom = how_box.contentsMargins().top(), how_box.contentsMargins().bottom()
        how_scroll.setMinimumHeight(
            top + bottom + sum(w.sizeHint().height() + max(form.verticalSpacing(), 6) for w in key_rows) + 16
        )
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(how_scroll, 1)
        right.addWidget(run_box)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(data_scroll, 1)
        layout.addLayout(right, 1)
        self.settings_boxes = (data_box, how_box)
        self.set_state("idle")

    # -- model -> form ------------------------------------------------------------------------------
    def set_project(self, project: Any, stack: QUndoStack | None = None, path: Any = None) -> None:
        """``path``: the project's file, where its initial weights (an imported model's) are looked for."""
        if self.project is not None:
            self.project.training_changed.disconnect(self.refresh)
        self.project, self.stack, self.project_path = project, stack, path
        if project is not None:
            project.training_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Show the project's settings in the widgets without echoing them back as edits."""
        if self.project is None:
            return
        s = self.project.training
        self._blocking = True
        try:
            blockers = [
                QSignalBlocker(w)
                for w in (
                    self.dataset,
                    self.val_fraction,
                    self.loss,
                    self.optimizer,
                    self.batch_size,
                    self.epochs,
                    self.scheduler,
                    self.early_stop,
                    self.patience,
                    self.device,
                    self.seed,
                    self.fine_tune,
                )
            ]
            index = self.dataset.findData(s.dataset)
            if index < 0:
                self.dataset.insertItem(self.dataset.count() - 1, short_spec(s.dataset), s.dataset)
                index = self.dataset.findData(s.dataset)
            self.dataset.setCurrentIndex(index)
            self.dataset.setToolTip(s.dataset)
            self.val_fraction.setValue(round(s.val_fraction * 100))
            self.loss.setCurrentText(s.loss)
            self.optimizer.setCurrentText(s.optimizer)
            self.lr.setText(f"{s.lr:g}")
            self.lr.setStyleSheet("")
            self.batch_size.setValue(s.batch_size)
            self.epochs.setValue(s.epochs)
            self.scheduler.setCurrentIndex(max(0, self.scheduler.findData(s.scheduler)))
            self.early_stop.setChecked(s.early_stopping > 0)
            self.patience.setValue(s.early_stopping or 5)
            self.patience.setEnabled(s.early_stopping > 0)
            device = self.device.findData(s.device)
            if device < 0:
                self.device.addItem(f"{s.device} (not found on this computer)", s.device)
                device = self.device.count() - 1
            self.device.setCurrentIndex(device)
            self.seed.setValue(s.seed)
            self.fine_tune.setChecked(s.fine_tune)
            self.settings_form.setRowVisible(self.fine_tune, self.has_initial_weights())
            del blockers
        finally:
            self._blocking = False

    def has_initial_weights(self) -> bool:
        from core.fx_import.initial import initial_weights

        return self.project is not None and initial_weights(self.project, self.project_path) is not None

    # -- form -> model ------------------------------------------------------------------------------
    def _set(self, field: str, value: Any) -> None:
        if self._blocking or self.project is None:
            return
        if getattr(self.project.training, field) == value:
            return
        try:
            TrainingSettings.from_dict({**self.project.training.to_dict(), field: value})
        except Exception as exc:
            self.settings_note.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.refresh()
            return
        self.settings_note.setText("")
        push(self.stack, SetTrainingSettings(self.project, {field: value}))

    def apply(self, changes: dict[str, Any], text: str) -> None:
        """Several settings at once, as one undo step."""
        if self.project is None or not changes:
            return
        push(self.stack, SetTrainingSettings(self.project, changes, text))

    def _lr_edited(self) -> None:
        text = self.lr.text().strip().replace(",", ".")
        try:
            value = float(text)
            if not 0 < value <= 1e6:
                raise ValueError
        except ValueError:
            self.lr.setStyleSheet("border: 1px solid #b00020;")
            self.settings_note.setText(
                "<span style='color:#b00020'>The learning rate must be a positive number such as 0.001.</span>"
            )
            return
        self.lr.setStyleSheet("")
        self._set("lr", value)

    def _early_stop_edited(self) -> None:
        self.patience.setEnabled(self.early_stop.isChecked())
        self._set("early_stopping", self.patience.value() if self.early_stop.isChecked() else 0)

    def _dataset_activated(self, index: int) -> None:
        spec = self.dataset.itemData(index)
        if spec == OPEN_FILE:
            kind, file_filter = file_source()
            path, _ = QFileDialog.getOpenFileName(self, "Open a data file", "", file_filter)
            if not path:
                self.refresh()
                return
            spec = f"{kind}:{path}"
        if self.project is None:
            return
        if spec != self.project.training.dataset or self._data_problem or self.data_note.text():
            self.dataset_chosen.emit(spec)  # the current one again: tried again (its files may be there now)

    def show_data_note(self, text: str) -> None:
        """Explain, under the dataset list, why the last choice could not be used ('' hides it)."""
        self.data_note.setText(text)
        self.data_note.setVisible(bool(text))

    # -- state ----------------------------------------------------------------------------------------
    def set_graph_problem(self, problem: str | None) -> None:
        self._graph_problem = problem
        self._update_buttons()

    def set_data_problem(self, problem: str | None) -> None:
        self._data_problem = problem
        self._update_buttons()

    def set_state(self, state: str) -> None:
        """idle | running | paused | stopping."""
        was, self._state = self._state, state
        if state == "paused":  # no ETA while nothing moves
            self._last_progress = self.progress.format()
            self.progress.setFormat(paused_line(self._last_progress))
        elif was == "paused" and state == "running":
            self.progress.setFormat(self._last_progress)
        for box in self.settings_boxes:
            box.setEnabled(state == "idle")
        self._update_buttons()

    @property
    def state(self) -> str:
        return self._state

    def blocked_reason(self) -> str:
        """Why Train cannot start now ('' when it can): the data's problem first, then the network's."""
        blocked = " Also ".join(p for p in (self._data_problem, self._graph_problem) if p)
        if self._state != "idle":
            return "A training run is in progress."
        return f"Train is off until this is fixed: {blocked}" if blocked else ""

    def _update_buttons(self) -> None:
        idle = self._state == "idle"
        blocked = self._graph_problem or self._data_problem
        self.train_button.setEnabled(idle and not blocked)
        self.train_button.setToolTip(self.blocked_reason() or "Train the network on the chosen dataset")
        self.availability_changed.emit(idle and not blocked, self.blocked_reason())
        self.pause_button.setEnabled(self._state == "running")
        self.resume_button.setEnabled(self._state == "paused")
        self.stop_button.setEnabled(self._state in ("running", "paused"))
        self.pause_button.setVisible(self._state != "paused")
        self.resume_button.setVisible(self._state == "paused")
        if idle and blocked:
            self.reason.setText(self.blocked_reason())
        elif not idle:
            self.reason.setStyleSheet("color: #555;")
            self.reason.setText("Training uses a copy of the network taken when you pressed Train.")
            return
        else:
            self.reason.setText(self._run_message)
        self.reason.setStyleSheet("color: #b00020;")

    # -- progress and log -----------------------------------------------------------------------------
    def begin_run(self, settings: TrainingSettings) -> None:
        self.progress.setRange(0, 0)  # busy until the first event says how many steps there are
        self.progress.setFormat("Preparing data and model…")
        self._run_message = ""
        self._log(
            f"Training on {short_spec(settings.dataset)}: {settings.epochs} epochs, batch {settings.batch_size}, "
            f"{settings.optimizer} lr={settings.lr:g}, {settings.loss}"
        )
        self._epoch_started = time.monotonic()

    def on_event(self, event: Any) -> None:
        kind = event.kind
        if kind == "start":
            self._epoch_started = time.monotonic()
            if event.message:
                self._log(event.message)
        elif kind == "batch":
            total = max(1, (event.epochs or 1) * (event.batches or 1))
            if self.progress.maximum() != total:
                self.progress.setRange(0, total)
            self.progress.setValue(min(total, event.step or 0))
            text = (
                f"Epoch {event.epoch}/{event.epochs} · batch {event.batch}/{event.batches} · "
                f"{(event.samples_per_s or 0):,.0f} samples/s · ETA {format_duration(event.eta_s)}"
            )
            self._last_progress = text
            self.progress.setFormat(paused_line(text) if self._state == "paused" else text)
        elif kind == "epoch":
            now = time.monotonic()
            self._log(keras_line(event, now - self._epoch_started))
            self._epoch_started = now
        elif kind == "notice" and event.message:
            self._log(event.message)

    # -- the log keeps its newest line in view ----------------------------------------------------------------
    def _log(self, text: str) -> None:
        self.log.appendPlainText(text)
        self._follow_log()

    def _follow_log(self) -> None:
        if self._log_follows:
            bar = self.log.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _log_scrolled(self, value: int) -> None:
        """Only a user scrolling a log in view decides whether it follows; a hidden log's layout does not."""
        if self.log.isVisible():
            self._log_follows = value >= self.log.verticalScrollBar().maximum()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self.log and event.type() in (QEvent.Type.Show, QEvent.Type.Resize):
            QTimer.singleShot(0, self._follow_log)  # after the text is laid out for the size it is shown at
        return super().eventFilter(watched, event)

    def end_run(self, result: Any) -> None:
        status = result.status
        if status == "finished":
            self.progress.setValue(self.progress.maximum())
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1)
                self.progress.setValue(1)
            text = "Finished"
            if result.test_accuracy is not None:
                text += f" · test accuracy {100 * result.test_accuracy:.1f}%"
            self.progress.setFormat(text)
            self._log(result_line(result))
        else:
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1)
            failed = status == "failed"
            self.progress.setFormat("Failed" if failed else "Stopped")
            message = result.message or ("The run failed without a message." if failed else "")
            self._log(("Failed: " if failed else "Stopped. ") + message)
            if failed:
                self._run_message = f"Training failed: {message}"
        self.set_state("idle")


def _scrolling(box: QWidget, stretch: bool = True) -> QScrollArea:
    """``box`` in a scroll area that scrolls down, never sideways: its text wraps to the column's width."""
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(box)
    if stretch:
        column.addStretch(1)
    scroll = WrappingScroll()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(holder)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(holder.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
    return scroll
