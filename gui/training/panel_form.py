"""The training form's widgets, each made by a short function with its range, suffix and tooltip; the panel
(``gui.training.panel``) arranges them, connects them to the settings and mirrors the settings back.

Also the Keras-like log (``KerasLog``), which keeps its newest line in view unless the user scrolled up, and the
scroll area every column of the form sits in (``scrolling``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
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

from core.settings import LOSSES, OPTIMIZERS, SCHEDULERS
from gui.panels.wrapping import WrappingScroll, let_wrap
from gui.training.panel_choices import OPEN_ENTRIES, SCHEDULER_LABELS, builtin_datasets, device_choices


def dataset_list() -> QComboBox:
    combo = QComboBox()
    combo.setEditable(False)
    for label, spec in builtin_datasets():
        combo.addItem(label, spec)
    for entry in OPEN_ENTRIES:
        combo.addItem(entry, entry)
    combo.setToolTip(
        "The data to train on. Built-in sets need no download; or open your own: a folder of images (one "
        "sub-folder per class), a table (CSV, TSV, Parquet), text, a NumPy .npz or IDX files."
    )
    return combo


def data_note() -> QLabel:
    """Why the dataset just chosen could not be used, and what to do (hidden while there is nothing to say)."""
    note = QLabel("")
    note.setWordWrap(True)
    note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    note.setStyleSheet("color: #b00020;")
    note.hide()
    return note


def validation_spin() -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0, 90)
    spin.setDecimals(0)
    spin.setSuffix(" % of training data")
    spin.setToolTip("Held out from training to check the model on data it has not learned from.")
    return spin


def _combo(items: Any, tip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(items)
    combo.setToolTip(tip)
    return combo


def _spin(low: int, high: int, tip: str, suffix: str = "", parent: QWidget | None = None) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    return spin


class DeviceCombo(QComboBox):
    """The device list: Auto and CPU at first, the GPUs by name once torch is imported or the list is opened
    (naming them imports torch, which an idle window does without)."""

    def __init__(self, tip: str) -> None:
        super().__init__()
        self.probed = "torch" in sys.modules
        for label, value in device_choices(probe=self.probed):
            self.addItem(label, value)
        self.setToolTip(tip)

    def showPopup(self) -> None:
        self.add_gpus()
        super().showPopup()

    def add_gpus(self) -> None:
        """List this computer's GPUs (once); a value the list carried unprobed is named or marked not found."""
        if self.probed:
            return
        self.probed = True
        found = device_choices(probe=True)
        for label, value in found:
            index = self.findData(value)
            if index >= 0:
                self.setItemText(index, label)
            else:
                self.addItem(label, value)
        known = {value for _label, value in found}
        for index in range(self.count()):
            if self.itemData(index) not in known:
                self.setItemText(index, self.missing_label(str(self.itemData(index))))

    def missing_label(self, value: str) -> str:
        """The label of a device value the list does not offer (a project from another computer)."""
        return f"{value} (not found on this computer)" if self.probed else value


def _data_combo(choices: Any, tip: str) -> QComboBox:
    """A list whose items carry the settings' values (``currentData``) under readable labels."""
    combo = QComboBox()
    for label, value in choices:
        combo.addItem(label, value)
    combo.setToolTip(tip)
    return combo


@dataclass
class SettingsFields:
    """The fields of "2. How to train"; ``rows()`` lists them in the form's order."""

    loss: QComboBox
    optimizer: QComboBox
    lr: QLineEdit
    batch_size: QSpinBox
    batch_row: QWidget  # the batch size and, beside it, the steps an epoch
    steps: QLabel
    batch_note: QLabel  # fewer than ~20 steps an epoch: why that is little, and a batch size that gives enough
    epochs: QSpinBox
    scheduler: QComboBox
    early: QWidget  # the early stopping pair: a check box and the patience
    early_stop: QCheckBox
    patience: QSpinBox
    device: DeviceCombo
    seed: QSpinBox
    fine_tune: QCheckBox
    distributed: QCheckBox

    def rows(self) -> tuple[tuple[str, QWidget], ...]:
        """The settings a beginner changes most come first, so they are in view without scrolling."""
        return (
            ("Epochs", self.epochs),
            ("Learning rate", self.lr),
            ("Optimizer", self.optimizer),
            ("Batch size", self.batch_row),
            ("", self.batch_note),
            ("Loss", self.loss),
            ("LR schedule", self.scheduler),
            ("Early stopping", self.early),
            ("Device", self.device),
            ("Seed", self.seed),
            ("Weights", self.fine_tune),
            ("Script", self.distributed),
        )


def settings_fields() -> SettingsFields:
    lr = QLineEdit()
    lr.setToolTip("Learning rate: the size of each update step. Try 0.001 for Adam, 0.01–0.1 for SGD.")
    early = QWidget()  # a parent from the start, so the pair is owned by the form, not by Python
    early_stop = QCheckBox("Stop if no better for", early)
    early_stop.setToolTip("Early stopping: end training when the validation loss stops improving.")
    patience = _spin(1, 1000, "", " epochs", early)
    early_row = QHBoxLayout(early)
    early_row.setContentsMargins(0, 0, 0, 0)
    early_row.addWidget(early_stop)
    early_row.addWidget(patience, 1)
    # not "fine-tune": an import without a weights file saved only the network's random starting values, and the
    # project does not say which it was (core.training.setup's words say both, as this does)
    fine_tune = QCheckBox("Start from the imported network's weights")
    fine_tune.setToolTip(
        "On: training starts from the weights saved when the network was imported: its trained weights (fine-"
        "tuning) when a weights file was given at import, without one its random starting values. Off: from "
        "fresh random weights drawn from the seed."
    )
    batch_size = _spin(1, 1_000_000, "How many samples the network sees per update step.")
    batch_row, steps, batch_note = _batch_row(batch_size)
    distributed = QCheckBox("Run on several processes (torchrun)")
    distributed.setToolTip(
        "On: the exported script also runs under torchrun, one process per GPU (DistributedDataParallel lines)."
        " Off: a shorter script for one process. Training in the window is one process either way."
    )
    return SettingsFields(
        loss=_combo(LOSSES, "CrossEntropyLoss for classes; NLLLoss after a LogSoftmax layer; MSELoss for numbers."),
        optimizer=_combo(OPTIMIZERS, "How the weights are updated. Adam is a good default."),
        lr=lr,
        batch_size=batch_size,
        batch_row=batch_row,
        steps=steps,
        batch_note=batch_note,
        epochs=_spin(1, 100_000, "How many times to go through the whole training set."),
        scheduler=_data_combo(
            [(SCHEDULER_LABELS.get(value, value), value) for value in SCHEDULERS],
            "Whether and how the learning rate shrinks during training.",
        ),
        early=early,
        early_stop=early_stop,
        patience=patience,
        device=DeviceCombo("Where the maths runs. Auto picks a GPU when one is available."),
        seed=_spin(0, 2**31 - 1, "Fixes the random start so the same settings give the same result."),
        fine_tune=fine_tune,
        distributed=distributed,
    )


def _batch_row(batch_size: QSpinBox) -> tuple[QWidget, QLabel, QLabel]:
    """The batch size with the updates an epoch it makes beside it, and the note under it when those are few."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    steps = let_wrap(QLabel("", row))  # two lines rather than cut in a narrow column
    steps.setStyleSheet("color: #555;")
    steps.setToolTip("Updates of the weights in one pass over the training split: its samples / the batch size.")
    layout.addWidget(batch_size)
    layout.addWidget(steps, 1)
    note = let_wrap(QLabel(""))
    note.setStyleSheet("color: #8a5a00;")
    return row, steps, note


def run_buttons() -> tuple[QPushButton, QPushButton, QPushButton, QPushButton]:
    """▶ Train, Pause, Resume, ■ Stop."""
    train = QPushButton("▶ Train")
    train.setStyleSheet("font-weight: bold;")
    return train, QPushButton("Pause"), QPushButton("Resume"), QPushButton("■ Stop")


def reason_area(reason: QLabel) -> QScrollArea:
    """Why Train is off, under the buttons: a long reason scrolls, so the buttons stay in view."""
    scroll = scrolling(reason, stretch=False)
    scroll.setMinimumSize(1, 1)  # not a scroll area's usual minimum: an empty reason takes no room
    scroll.setMaximumHeight(5 * reason.fontMetrics().lineSpacing() + 4)
    scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    return scroll


NOT_STARTED = "Not started"


def progress_bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 1)
    bar.setValue(0)
    bar.setFormat(NOT_STARTED)
    bar.setTextVisible(True)
    return bar


class KerasLog(QPlainTextEdit):
    """One line per epoch, as Keras prints it. It belongs to the panel but is shown under the curves (the
    dashboard places it), and keeps its newest line in view unless the user scrolled up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.follows = True
        self.setReadOnly(True)
        self.setMaximumBlockCount(10_000)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("One line per epoch appears here while training, as Keras prints it.")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # a failure message is read in full
        self.setMinimumHeight(3 * self.fontMetrics().lineSpacing() + 12)  # the curves above get the rest
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    def add(self, text: str) -> None:
        self.appendPlainText(text)
        self.follow()

    def follow(self) -> None:
        if self.follows:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _scrolled(self, value: int) -> None:
        """Only a user scrolling a log in view decides whether it follows; a hidden log's layout does not."""
        if self.isVisible():
            self.follows = value >= self.verticalScrollBar().maximum()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.follow)  # after the text is laid out for the size it is shown at

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self.follow)


def scrolling(box: QWidget, stretch: bool = True) -> QScrollArea:
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


def key_rows_height(box: QWidget, form: QFormLayout, rows: tuple[QWidget, ...]) -> int:
    """The height that shows ``rows`` of ``form`` in ``box`` without scrolling."""
    margins = box.contentsMargins()
    spacing = max(form.verticalSpacing(), 6)
    return margins.top() + margins.bottom() + sum(w.sizeHint().height() + spacing for w in rows) + 16
