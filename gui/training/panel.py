"""The training form: dataset (with a preview), how to train, the Train/Pause/Resume/Stop buttons, the progress
bar and a Keras-like log. Every change edits the project's ``TrainingSettings`` through the undo stack; the
form mirrors the settings back whenever the project says they changed (``Project.training_changed``: an edit, its
undo or redo) or a project is opened. Which buttons work, why Train is off and a run's progress are
``gui.training.panel_state``'s."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.files.initial_weights import initial_weights
from core.settings import TrainingSettings
from gui.commands.training import SetTrainingSettings, push
from gui.data import opening
from gui.data.augment import AugmentBox
from gui.data.wizard import DataWizard
from gui.panels.wheel_guard import wheel_needs_focus
from gui.panels.wrapping import let_wrap
from gui.training.panel_choices import OPEN_ENTRIES, OPEN_FILE, OPEN_FOLDER
from gui.training.panel_form import (
    KerasLog,
    data_note,
    dataset_list,
    key_rows_height,
    progress_bar,
    reason_area,
    run_buttons,
    scrolling,
    settings_fields,
    validation_spin,
)
from gui.training.panel_run import RunReport
from gui.training.panel_state import PanelState
from gui.training.panel_text import short_spec
from gui.training.panel_transfer import TransferBox
from gui.training.suggest import data_fit_fix, data_fit_note, few_steps_note, steps_text
from gui.widgets.preview import DatasetPreview

__all__ = ["OPEN_FILE", "OPEN_FOLDER", "TrainingPanel"]

LR_ERROR = "<span style='color:#b00020'>The learning rate must be a positive number such as 0.001.</span>"


class TrainingPanel(PanelState, QWidget):
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
        self.wizard: DataWizard | None = None  # the data wizard last opened
        self._build()

    # -- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        data_box, data_form = self._build_data()
        how_box, form = self._build_settings()
        run_box = self._build_run()
        self.log = KerasLog()
        self.report = RunReport(self.progress, self.log)
        self._arrange(data_box, data_form, how_box, form, run_box)
        self.settings_boxes = (data_box, how_box)
        wheel_needs_focus(self)  # the wheel over a list scrolls the form unless that list has the focus
        self.set_state("idle")

    def _build_data(self) -> tuple[QGroupBox, QFormLayout]:
        """1. Data: the dataset list, why a choice could not be used, the preview and the validation split."""
        box = QGroupBox("1. Data")
        form = QFormLayout(box)
        self.dataset = dataset_list()
        self.dataset.activated.connect(self._dataset_activated)
        form.addRow("Dataset", self.dataset)
        self.data_note = data_note()
        form.addRow(self.data_note)
        self.fit_note = data_note()  # the data does not fit a pretrained network: the link fits it (one undo step)
        self.fit_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fit_note.linkActivated.connect(self._fit_data)
        form.addRow(self.fit_note)
        self.preview = DatasetPreview()
        self.preview.shown.connect(lambda _: self._show_steps())
        form.addRow(self.preview)
        self.val_fraction = validation_spin()
        self.val_fraction.valueChanged.connect(lambda v: self._set("val_fraction", round(v / 100, 4)))
        form.addRow("Validation", self.val_fraction)
        self.augment = AugmentBox()
        self.augment.edited.connect(self._set)
        self.preview.shown.connect(lambda _: self.augment.set_dataset(self.preview.dataset))
        form.addRow(self.augment)
        return box, form

    def _build_settings(self) -> tuple[QGroupBox, QFormLayout]:
        """2. How to train: each field edits one setting (the settings changed most come first)."""
        box = QGroupBox("2. How to train")
        form = QFormLayout(box)
        fields = settings_fields()
        self.loss, self.optimizer, self.lr = fields.loss, fields.optimizer, fields.lr
        self.batch_size, self.epochs, self.scheduler = fields.batch_size, fields.epochs, fields.scheduler
        self.early_stop, self.patience, self.device = fields.early_stop, fields.patience, fields.device
        self.seed, self.fine_tune, self.distributed = fields.seed, fields.fine_tune, fields.distributed
        self.loss.currentTextChanged.connect(lambda t: self._set("loss", t))
        self.optimizer.currentTextChanged.connect(lambda t: self._set("optimizer", t))
        self.lr.editingFinished.connect(self._lr_edited)
        self.batch_size.valueChanged.connect(lambda v: self._set("batch_size", v))
        self.batch_size.valueChanged.connect(lambda _: self._show_steps())
        self.steps, self.batch_note = fields.steps, fields.batch_note
        self.batch_note.linkActivated.connect(lambda link: self._set("batch_size", int(link.partition(":")[2])))
        self.epochs.valueChanged.connect(lambda v: self._set("epochs", v))
        self.scheduler.currentIndexChanged.connect(lambda _: self._set("scheduler", self.scheduler.currentData()))
        self.early_stop.toggled.connect(self._early_stop_edited)
        self.patience.valueChanged.connect(lambda _: self._early_stop_edited())
        self.device.currentIndexChanged.connect(lambda _: self._set("device", self.device.currentData()))
        self.seed.valueChanged.connect(lambda v: self._set("seed", v))
        self.fine_tune.toggled.connect(lambda on: self._set("fine_tune", on))
        self.distributed.toggled.connect(lambda on: self._set("distributed", on))
        for label, field in fields.rows():
            form.addRow(label, field)
        self.settings_form = form
        form.setRowVisible(self.batch_note, False)  # shown when an epoch has few updates
        form.setRowVisible(self.fine_tune, False)  # only an imported project has initial weights to start from
        self.transfer = TransferBox()  # the weights to start from and fine-tuning in two phases
        self.transfer.edited.connect(self._set)
        form.addRow(self.transfer)
        self.settings_note = QLabel("")
        self.settings_note.setWordWrap(True)
        self.settings_note.setStyleSheet("color: #555;")
        form.addRow(self.settings_note)
        return box, form

    def _build_run(self) -> QGroupBox:
        """3. Train: the buttons, the progress bar and why Train is off (always in view, below the settings)."""
        box = QGroupBox("3. Train")
        column = QVBoxLayout(box)
        buttons = QHBoxLayout()
        self.train_button, self.pause_button, self.resume_button, self.stop_button = run_buttons()
        for button, signal in (
            (self.train_button, self.train_clicked),
            (self.pause_button, self.pause_clicked),
            (self.resume_button, self.resume_clicked),
            (self.stop_button, self.stop_clicked),
        ):
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
        column.addLayout(buttons)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #b00020;")
        let_wrap(self.reason)
        self.reason_scroll = reason_area(self.reason)
        self.progress = progress_bar()
        column.addWidget(self.progress)
        column.addWidget(self.reason_scroll)  # under the progress bar, so an empty reason leaves no gap above it
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # the settings get the rest
        return box

    def _arrange(
        self, data_box: QGroupBox, data_form: QFormLayout, how_box: QGroupBox, form: QFormLayout, run_box: QGroupBox
    ) -> None:
        """Two columns, because the dock is wide and short: "1. Data" on the left; "2. How to train" (the settings
        changed most come first) over "3. Train" on the right, so epochs, learning rate, optimizer and batch size
        are in view without scrolling however long a data message is."""
        for box_form in (data_form, form):
            box_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            box_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        data_scroll = scrolling(data_box)
        how_scroll = scrolling(how_box)
        key_rows = (self.epochs, self.lr, self.optimizer, self.batch_size)
        how_scroll.setMinimumHeight(key_rows_height(how_box, form, key_rows))
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(how_scroll, 1)
        right.addWidget(run_box)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(data_scroll, 1)
        layout.addLayout(right, 1)

    # -- model -> form ------------------------------------------------------------------------------
    def set_project(self, project: Any, stack: QUndoStack | None = None, path: Any = None) -> None:
        """``path``: the project's file, where its initial weights (an imported model's) are looked for."""
        if self.project is not None:
            self.project.training_changed.disconnect(self.refresh)
        self.project, self.stack, self.project_path = project, stack, path
        if project is not None:
            project.training_changed.connect(self.refresh)
        self.refresh()

    def set_path(self, path: Any) -> None:
        """The project's file moved (Save As): its initial weights are looked for beside the new one."""
        self.project_path = path
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Show the project's settings in the widgets without echoing them back as edits."""
        if self.project is None:
            return
        self._blocking = True
        blockers = [QSignalBlocker(w) for w in self._fields()]
        try:
            self._show(self.project.training)
        finally:
            del blockers
            self._blocking = False

    def _fields(self) -> tuple[QWidget, ...]:
        """Every widget that edits a setting (their signals are blocked while the form shows the settings)."""
        first = (self.dataset, self.val_fraction, self.loss, self.optimizer, self.batch_size, self.epochs)
        last = (self.early_stop, self.patience, self.device, self.seed, self.fine_tune, self.distributed)
        return (*first, self.scheduler, *last, *self.augment.fields(), *self.transfer.fields())

    def _show(self, s: TrainingSettings) -> None:
        index = self.dataset.findData(s.dataset)
        if index < 0:  # a data file or an option set the list does not offer yet
            self.dataset.insertItem(self.dataset.count() - len(OPEN_ENTRIES), short_spec(s.dataset), s.dataset)
            index = self.dataset.findData(s.dataset)
        self.dataset.setCurrentIndex(index)
        self.dataset.setToolTip(s.dataset)
        self.val_fraction.setValue(round(s.val_fraction * 100))
        self.augment.show_settings(s)
        self.loss.setCurrentText(s.loss)
        self.optimizer.setCurrentText(s.optimizer)
        self.lr.setText(f"{s.lr:g}")
        self.lr.setStyleSheet("")
        if self.settings_note.text() == LR_ERROR:  # the rejected rate it spoke of is no longer shown
            self.settings_note.setText("")
        self.batch_size.setValue(s.batch_size)
        self._show_steps()
        self.epochs.setValue(s.epochs)
        self.scheduler.setCurrentIndex(max(0, self.scheduler.findData(s.scheduler)))
        self.early_stop.setChecked(s.early_stopping > 0)
        self.patience.setValue(s.early_stopping or 5)
        self.patience.setEnabled(s.early_stopping > 0)
        device = self.device.findData(s.device)
        if device < 0:
            self.device.addItem(self.device.missing_label(s.device), s.device)
            device = self.device.count() - 1
        self.device.setCurrentIndex(device)
        self.seed.setValue(s.seed)
        self.fine_tune.setChecked(s.fine_tune)
        self.distributed.setChecked(s.distributed)
        self.settings_form.setRowVisible(self.fine_tune, self.has_initial_weights())
        self.transfer.show_settings(self.project)
        self.fit_note.setText(data_fit_note(self.project.graph, s))
        self.fit_note.setVisible(bool(self.fit_note.text()))

    def _fit_data(self, _link: str = "") -> None:
        if self.project is not None:
            self.apply(data_fit_fix(self.project.graph, self.project.training), "Fit the data to the network")

    def _show_steps(self) -> None:
        """Beside the batch size, the updates an epoch of the shown dataset makes; under it, when they are few,
        why that matters and a batch size that gives enough (a link that sets it, one undo step)."""
        n_train, batch = self.preview.train_count, self.batch_size.value()
        self.steps.setText(steps_text(n_train, batch))
        self.batch_note.setText(few_steps_note(n_train, batch))
        self.settings_form.setRowVisible(self.batch_note, bool(self.batch_note.text()))

    def has_initial_weights(self) -> bool:
        if self.project is None or not self.project.extra:  # names none
            return False
        return initial_weights(self.project, self.project_path) is not None

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
            self.settings_note.setText(LR_ERROR)
            return
        self.lr.setStyleSheet("")
        self._set("lr", value)

    def _early_stop_edited(self) -> None:
        self.patience.setEnabled(self.early_stop.isChecked())
        self._set("early_stopping", self.patience.value() if self.early_stop.isChecked() else 0)

    def _dataset_activated(self, index: int) -> None:
        spec = self.dataset.itemData(index)
        if spec in OPEN_ENTRIES:
            self.refresh()  # the list shows the project's dataset until the wizard's choice is used
            opening.ask_and_open(self, folder=spec == OPEN_FOLDER)
            return
        self.choose(spec)

    def choose(self, spec: str) -> None:
        """Use ``spec`` (the dashboard loads it in the background; one undo step sets it)."""
        if self.project is None:
            return
        if spec != self.project.training.dataset or self._data_problem or self.data_note.text():
            self.dataset_chosen.emit(spec)  # the current one again: tried again (its files may be there now)

    def open_data_path(self, path: str) -> DataWizard | None:
        """The user's own file or folder in the data wizard (``gui.data.opening``)."""
        return opening.open_data_path(self, path)

    def show_loading(self, spec: str) -> None:
        """Under the dataset list while a chosen dataset loads (the project keeps its own until it has)."""
        self.show_data_note(f"<span style='color:#555'>Loading {short_spec(spec)}…</span>")

    def show_data_note(self, text: str) -> None:
        """Explain, under the dataset list, why the last choice could not be used ('' hides it)."""
        self.data_note.setText(text)
        self.data_note.setVisible(bool(text))
