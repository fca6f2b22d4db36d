"""The data wizard: what was found in the user's file or folder, before anything trains. Classes with their
counts and how unequal they are, sample pictures (or a table's first rows), the split sizes, the image sizes found
and the one used, and for a table each column with the kind it is used as (the user may change it) and the label
column. "Use this data" hands the spec with those choices to the form, whose one undoable edit sets it. A table
whose one feature is a column of sentences is read as text (``text:PATH?column=NAME&label=LABEL``): the window has
nowhere else to write that spec, so the wizard switches to it and shows the Text box, the columns kept to change.

Everything shown comes from ``core.datasets.survey`` (read in a thread: ``gui.data.surveyor``); the wizard decides
nothing about the data itself. It is opened with ``open()`` (never ``exec()``), so nothing waits on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.datasets.folder import wxh
from core.datasets.spec import parse_spec
from core.errors import TorchCanvasError
from gui.data.sources import column_text_spec, source_words, spec_path, text_columns, text_problem
from gui.data.surveyor import Found, Request, Surveyor
from gui.data.wizard_parts import ClassTable, ColumnTable, HeadTable
from gui.panels.wrapping import WrappingScroll, let_wrap
from gui.widgets.images import ImageGrid

PREDICT = (
    ("as found (automatic)", None),
    ("classes (classification)", "category"),
    ("a number (regression)", "number"),
)
SPLIT_WORDS = "the validation and test shares of the training settings"
LEARN = (("the class of each sample", "classify"), ("the next character", "next"))
TOKENIZERS = (("words", "word"), ("characters", "char"))


def text_spec(path: str, learn: str, tokenizer: str, max_length: int | None) -> str:
    """The text source's spec (``core.datasets.text``): what to learn, the tokens, the longest sample."""
    parts = ["task=next"] if learn == "next" else ["tokenizer=char"] if tokenizer == "char" else []
    if max_length:
        parts.append(f"max_length={max_length}")
    return f"text:{path}?{'&'.join(parts)}" if parts else f"text:{path}"


def _label(text: str = "", style: str = "") -> QLabel:
    label = let_wrap(QLabel(text))
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        label.setStyleSheet(style)
    return label


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def size_words(survey: Any) -> str:
    """'48x48 (100 images), 32x32 (20 images). Used: 48x48, the most common size …'."""
    if not survey.image_sizes:
        return ""
    found = ", ".join(f"{wxh(s.size)} ({s.count:,} image{'s' if s.count != 1 else ''})" for s in survey.image_sizes[:6])
    more = f" and {len(survey.image_sizes) - 6} more sizes" if len(survey.image_sizes) > 6 else ""
    used = ""
    if survey.image_size is not None:
        reason = f", {_escape(survey.image_size_reason)}" if survey.image_size_reason else ""
        used = f"<br><b>Used:</b> {wxh(survey.image_size)}{reason}"
    colour = {1: " · grey", 3: " · colour"}.get(survey.channels or 0, "")
    return f"<b>Found:</b> {found}{more}{colour}{used}"


def summary_words(survey: Any) -> str:
    """'<b>120 samples</b> · 3 classes to predict · one sample is [3, 48, 48]'."""
    parts = []
    if survey.samples is not None:
        parts.append(f"<b>{survey.samples:,} samples</b>")
    if survey.task == "classification" and survey.classes:
        parts.append(f"{len(survey.classes)} classes to predict")
    elif survey.task == "regression":
        named = f": {_escape(survey.label_column)}" if survey.label_column else ""
        parts.append(f"a number to predict (regression){named}")
    if survey.sample_shape:
        parts.append(f"one sample is [{', '.join(str(d) for d in survey.sample_shape)}]")
    return " · ".join(parts)


def split_words(survey: Any) -> str:
    s = survey.splits
    if s is None:
        return ""
    test = "test (the file's own)" if s.test_from_source else "test"
    return f"{s.train:,} training · {s.val:,} validation · {s.test:,} {test} ({SPLIT_WORDS})"


class DataWizard(QDialog):
    """``chosen(spec)`` when the user accepts data that training can use."""

    chosen = Signal(str)

    def __init__(self, spec: str, settings: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_spec = spec
        self.settings = settings
        self.label_column: str | None = None
        self.kinds: dict[str, str] = {}
        self.table_spec: str | None = None  # the table, while its text column is read as text
        self.text_column = ""
        self.found: Found | None = None
        self.surveyor = Surveyor(self)
        self.surveyor.done.connect(self._found)
        path = spec_path(spec)
        self.setWindowTitle(f"Your data: {Path(path).name or path}")
        self.resize(820, 680)
        self._build(path)
        self.look()

    # -- layout --------------------------------------------------------------------------------------------
    def _build(self, path: str) -> None:
        body = QWidget()
        column = QVBoxLayout(body)
        self.title = _label(f"<b>{_escape(Path(path).name or path)}</b>: {source_words(self.base_spec)}")
        self.title.setToolTip(path)
        self.status = _label("", "color: #555;")
        self.summary = _label()
        self.splits = _label()
        column.addWidget(self.title)
        column.addWidget(self.status)
        column.addWidget(self.summary)
        column.addWidget(self.splits)
        column.addWidget(self._build_table_box())
        column.addWidget(self._build_text_box())
        self.classes_box = QGroupBox("Classes")
        classes = QVBoxLayout(self.classes_box)
        self.balance = _label()
        self.classes = ClassTable()
        classes.addWidget(self.balance)
        classes.addWidget(self.classes)
        column.addWidget(self.classes_box)
        self.samples_box = QGroupBox("Samples")
        samples = QVBoxLayout(self.samples_box)
        self.sizes = _label()
        self.grid = ImageGrid(tile=56)
        self.head = HeadTable()
        for widget in (self.sizes, self.grid, self.head):
            samples.addWidget(widget)
        column.addWidget(self.samples_box)
        self.problems = _label("", "color: #b00020;")
        self.notes = _label("", "color: #555;")
        column.addWidget(self.problems)
        column.addWidget(self.notes)
        column.addStretch(1)
        scroll = WrappingScroll()
        scroll.setWidget(body)
        self.buttons = QDialogButtonBox()
        self.use_button = QPushButton("Use this data")
        self.use_button.setDefault(True)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self._show_parts(None)

    def _build_table_box(self) -> QGroupBox:
        """A table's label column, what it predicts, and its columns."""
        self.table_box = QGroupBox("Columns")
        box = QVBoxLayout(self.table_box)
        choices = QFormLayout()
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("The column the network learns to predict; the others are its inputs")
        self.label_combo.activated.connect(lambda _: self.choose_label(self.label_combo.currentText()))
        self.predict_combo = QComboBox()
        for words, value in PREDICT:
            self.predict_combo.addItem(words, value)
        self.predict_combo.setToolTip("Whether the label's values are classes or a number (regression)")
        self.predict_combo.activated.connect(lambda _: self.choose_predict(self.predict_combo.currentData()))
        row = QHBoxLayout()
        row.addWidget(self.label_combo, 1)
        row.addWidget(QLabel("predicted as"))
        row.addWidget(self.predict_combo, 1)
        choices.addRow("Label column", row)
        box.addLayout(choices)
        self.columns = ColumnTable()
        self.columns.kind_chosen.connect(self.choose_kind)
        box.addWidget(self.columns)
        return self.table_box

    def _build_text_box(self) -> QGroupBox:
        """Text: what to learn from it, how it is split into tokens and how many tokens a sample keeps."""
        self.text_box = QGroupBox("Text")
        form = QFormLayout(self.text_box)
        self.learn_combo = QComboBox()
        for words, value in LEARN:
            self.learn_combo.addItem(words, value)
        self.tokenizer_combo = QComboBox()
        for words, value in TOKENIZERS:
            self.tokenizer_combo.addItem(words, value)
        self.length_spin = QSpinBox()
        self.length_spin.setRange(1, 100_000)
        self.length_spin.setSuffix(" tokens")
        self.length_spin.setToolTip("Longer samples are cut to this many tokens; shorter ones are padded")
        self.learn_combo.activated.connect(lambda _: self.choose_text())
        self.tokenizer_combo.activated.connect(lambda _: self.choose_text())
        self.length_spin.editingFinished.connect(self.choose_text)
        form.addRow("Learn", self.learn_combo)
        form.addRow("Tokens", self.tokenizer_combo)
        form.addRow("Longest sample", self.length_spin)
        is_text = self.base_spec.startswith("text:")
        self.text_box.setVisible(is_text)
        if is_text:
            self._show_text_options(self.base_spec)
        self.learn_combo.setEnabled(is_text and Path(spec_path(self.base_spec)).expanduser().is_file())
        return self.text_box

    def _show_text_options(self, spec: str) -> None:
        try:
            options = parse_spec(spec).options
        except TorchCanvasError:
            return
        blockers = [QSignalBlocker(w) for w in (self.learn_combo, self.tokenizer_combo, self.length_spin)]
        self.learn_combo.setCurrentIndex(self.learn_combo.findData("next" if options.get("next") else "classify"))
        self.tokenizer_combo.setCurrentIndex(self.tokenizer_combo.findData("char" if options.get("chars") else "word"))
        self.tokenizer_combo.setEnabled(not options.get("next"))
        self.length_spin.setValue(int(options.get("max_length", 50)))
        del blockers

    # -- the survey ------------------------------------------------------------------------------------------
    def request(self) -> Request:
        s = self.settings
        table = self.table_spec is None  # a table read as text: the spec names its two columns
        kinds = (dict(self.kinds) or None) if table else None
        return Request(
            self.base_spec,
            label_column=self.label_column if table else None,
            column_kinds=kinds,
            val_fraction=s.val_fraction if s is not None else 0.2,
            test_fraction=s.test_fraction if s is not None else 0.1,
            resize=tuple(s.resize) if s is not None and s.resize else None,
        )

    def look(self) -> None:
        """Survey the source again with the choices made (in a thread); 'Use this data' waits for the answer."""
        self.use_button.setEnabled(False)
        _say(self.status, f"Looking at {_escape(spec_path(self.base_spec))}…")
        self.surveyor.start(self.request())

    def _found(self, number: int, result: Any) -> None:
        if number != self.surveyor.latest:  # a newer choice is being looked at
            return
        if isinstance(result, BaseException):
            self.found = None
            self._show_parts(None)
            _say(self.status, f"<span style='color:#b00020'>{_escape(_plain(result))}</span>")
            return
        self.found = result
        if self._read_as_text(result.survey):
            return
        self._show(result)

    def _read_as_text(self, survey: Any) -> bool:
        """A table whose one feature is text: survey it as the text source (the Text box shows), columns kept."""
        text, others = text_columns(survey)
        if survey.source != "table" or len(text) != 1 or others or not survey.label_column:
            return False
        self._show_columns(survey)
        self.table_spec, self.text_column = self.base_spec, text[0]
        self.label_column = survey.label_column
        self.base_spec = column_text_spec(spec_path(survey.spec), text[0], survey.label_column)
        self.found = None
        self._show_text_options(self.base_spec)
        QTimer.singleShot(0, self, self.look)  # after this answer's slot, not inside it
        return True

    def _back_to_table(self) -> None:
        """A choice in the Columns box: the table is surveyed again (and read as text again if it still is)."""
        if self.table_spec is not None:
            self.base_spec, self.table_spec = self.table_spec, None

    def _show(self, found: Found) -> None:
        survey = found.survey
        _say(self.status, "")
        self.summary.setText(summary_words(survey))
        self.splits.setText(f"<b>Splits:</b> {split_words(survey)}" if survey.splits else "")
        self._show_parts(survey)
        if survey.columns or found.head:
            self.head.show_rows(found.head_columns, found.head)
        if survey.columns:
            self._show_columns(survey)
        if survey.source == "text":
            self._show_text_options(survey.spec)
        if survey.classes:
            self.balance.setText(f"<b>Balance:</b> {_escape(survey.imbalance)}" if survey.imbalance else "")
            self.classes.show_classes(survey.classes)
        self.sizes.setText(size_words(survey))
        self.grid.set_items([(image, caption, None) for image, caption in found.images])
        rows = (len(found.images) + 7) // 8
        self.grid.setFixedHeight(min(rows, 2) * self.grid.gridSize().height() + 8 if found.images else 0)
        words = text_problem(survey) if survey.source == "table" and text_columns(survey)[0] else ""
        problems = [f"• {_escape(words if words and 'holds text' in p else p)}" for p in survey.problems]
        if problems:
            problems.insert(0, "<b>Training would refuse this data:</b>")
        self.problems.setText("<br>".join(problems))
        notes = list(survey.notes)
        if self.table_spec is not None:
            notes.insert(
                0,
                f"{self.text_column!r} is read as text: token ids for an Embedding, labelled by {self.label_column!r}"
                f" (set {self.text_column!r} to ignore or category under 'Used as' to read the table instead)",
            )
        self.notes.setText("<br>".join(f"• {_escape(n)}" for n in notes))
        self.use_button.setEnabled(not survey.problems)
        self.use_button.setToolTip("Fix the problems listed first" if survey.problems else "Train on this data")

    def _show_parts(self, survey: Any) -> None:
        """Only the parts that say something about this source take room. When a choice made the source
        unreadable, a table's columns stay (as last read), so that the choice can be taken back."""
        table = bool(survey.columns) if survey is not None else self.columns.rowCount() > 0
        self.table_box.setVisible(table or (self.table_spec is not None and self.columns.rowCount() > 0))
        self.text_box.setVisible(self.base_spec.startswith("text:"))
        self.predict_combo.setEnabled(self.table_spec is None)  # text is read as classes
        if self.table_spec is not None:
            self.learn_combo.setEnabled(False)  # a table's column: the class of each sample
        self.classes_box.setVisible(bool(survey is not None and survey.classes))
        images = bool(self.found is not None and self.found.images and survey is not None)
        head = bool(self.found is not None and self.found.head and survey is not None)
        self.samples_box.setVisible(images or head or bool(survey is not None and survey.image_sizes))
        self.grid.setVisible(images)
        self.head.setVisible(head)
        self.samples_box.setTitle("First rows" if head and table else "Samples")
        if survey is None:
            for label in (self.summary, self.splits, self.problems, self.notes):
                label.setText("")

    def _show_columns(self, survey: Any) -> None:
        names = [c.name for c in survey.columns]
        self.label_combo.clear()
        self.label_combo.addItems(names)
        self.label_combo.setCurrentText(survey.label_column or "")
        chosen = self.kinds.get(survey.label_column or "")
        self.predict_combo.setCurrentIndex(max(0, self.predict_combo.findData(chosen)))
        self.columns.show_columns(survey.columns)

    # -- the user's choices ------------------------------------------------------------------------------------
    def choose_label(self, name: str) -> None:
        """Predict the column ``name`` (its kind as a feature no longer applies)."""
        if self.found is not None and name == self.found.survey.label_column:
            return
        self.label_column = name
        self.kinds.pop(name, None)
        self._back_to_table()
        self.look()

    def choose_predict(self, kind: str | None) -> None:
        """The label's values as classes ('category'), a number ('number') or as detected (None)."""
        label = self.label_column or (self.found.survey.label_column if self.found is not None else None)
        if label is None:
            return
        self.label_column = label
        if kind is None:
            self.kinds.pop(label, None)
        else:
            self.kinds[label] = kind
        self._back_to_table()
        self.look()

    def choose_text(self) -> None:
        """Text read another way: the spec's options follow the three fields (next characters are characters)."""
        learn, tokenizer = self.learn_combo.currentData(), self.tokenizer_combo.currentData()
        was_char = "tokenizer=char" in self.base_spec or "task=next" in self.base_spec
        switched = (learn == "next") != ("task=next" in self.base_spec) or (tokenizer == "char") != was_char
        length = None if switched else self.length_spin.value()  # other tokens start from their own length
        path = spec_path(self.base_spec)
        if self.table_spec is not None:
            spec = column_text_spec(path, self.text_column, self.label_column or "", tokenizer, length)
        else:
            spec = text_spec(path, learn, tokenizer, length)
        if spec != self.base_spec:
            self.base_spec = spec
            self.look()

    def choose_kind(self, column: str, kind: str) -> None:
        self.kinds[column] = kind
        self._back_to_table()
        self.look()

    # -- the answer ----------------------------------------------------------------------------------------
    def spec(self) -> str | None:
        """The spec with the choices made, once the survey answered for them."""
        return self.found.survey.spec if self.found is not None else None

    def accept(self) -> None:
        spec = self.spec()
        if spec is None or not self.use_button.isEnabled():
            return
        self.chosen.emit(spec)
        super().accept()


def _say(label: QLabel, text: str) -> None:
    """A label that takes room only while it has something to say."""
    label.setText(text)
    label.setVisible(bool(text))


def _plain(error: BaseException) -> str:
    """A DataError as it is; anything else one sentence (the wizard never shows a traceback)."""
    if isinstance(error, TorchCanvasError):
        return str(error)
    return f"This data could not be read ({type(error).__name__}: {error})."
