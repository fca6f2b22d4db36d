"""The live code view: the generated ``nn.Module`` and, in a tab beside it, the same network as Keras 3 code,
syntax highlighted, read-only, with Copy and Export (each for the tab shown). The Keras code is generated only
while its tab is shown: most users never open it, and the PyTorch view must stay as fast as it was."""

from __future__ import annotations

import keyword
import re
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTabWidget, QVBoxLayout, QWidget

from core.code.codegen import CodegenError, GeneratedCode, generate_model
from core.code.keras_code import KerasExportError, generate_keras_model
from core.model.analysis import Analysis
from core.model.graph import Graph
from core.settings import TrainingSettings
from gui import style


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    RULES: ClassVar[list[tuple[re.Pattern[str], QTextCharFormat]]] = [
        (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), _format("#7b1fa2", bold=True)),
        (re.compile(r"\b(self|super|torch|nn|keras|layers)\b"), _format("#1565c0")),
        (re.compile(r"\b[0-9]+(\.[0-9]*)?(e-?[0-9]+)?\b"), _format("#ef6c00")),
        (re.compile(r"\bclass\s+(\w+)|\bdef\s+(\w+)"), _format("#00695c", bold=True)),
        (re.compile(r"\"[^\"\n]*\"|'[^'\n]*'"), _format("#2e7d32")),
        (re.compile(r"#[^\n]*"), _format("#80868b", italic=True)),
    ]

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


def _code_editor() -> QPlainTextEdit:
    editor = QPlainTextEdit()
    editor.setReadOnly(True)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    editor.setFont(style.font(9.5, mono=True))
    editor.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return editor


def _as_comment(message: str) -> str:
    lines = message.splitlines()
    return "\n".join(["# " + lines[0], *(f"#   {line}" for line in lines[1:])])


class CodeView(QWidget):
    export_requested = Signal()
    keras_export_requested = Signal()
    node_clicked = Signal(str)
    PYTORCH, KERAS = 0, 1  # tab indexes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code: GeneratedCode | None = None
        self.keras_source: str | None = None  # None: no Keras code (problems, or layers Keras lacks)
        self._pending: tuple[Graph, Analysis, str, TrainingSettings | None] | None = None  # for the Keras tab
        self._status = ["", ""]  # each tab's status line
        self.editor = _code_editor()
        self.editor.cursorPositionChanged.connect(self._cursor_moved)
        self.highlighter = PythonHighlighter(self.editor.document())
        self.keras_editor = _code_editor()
        self.keras_highlighter = PythonHighlighter(self.keras_editor.document())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.editor, "PyTorch")
        self.tabs.addTab(self.keras_editor, "Keras")
        self.tabs.setTabToolTip(self.KERAS, "The same network as Keras 3 code (compile/fit in File > Export)")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.status = QLabel()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code of the tab shown to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the code of the tab shown as a Python file (Keras: its training script)")
        self.export_button.clicked.connect(self._export_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.tabs)

    def update_code(
        self, graph: Graph, analysis: Analysis, title: str = "", training: TrainingSettings | None = None
    ) -> None:
        """Show the model code; the Keras tab adds ``compile_model`` for the ``training`` settings."""
        self._pending = (graph, analysis, title, training)
        try:
            code = generate_model(graph, title=title, analysis=analysis)
        except CodegenError as exc:
            self.code = None
            self._status[self.PYTORCH] = "<span style='color:#d93025'>Fix the problems to see the code.</span>"
            self._set_text(self.editor, _as_comment(str(exc)))
        else:
            self.code = code
            lines = len(code.source.splitlines())
            self._status[self.PYTORCH] = f"PyTorch model <b>{code.class_name}</b> — {lines} lines"
            self._set_text(self.editor, code.source)
        if self.tabs.currentIndex() == self.KERAS:
            self._update_keras()
        self._show_status()

    def _update_keras(self) -> None:
        if self._pending is None:
            return
        graph, analysis, title, training = self._pending
        self._pending = None
        from core.code.keras_script import compile_fit_lines  # here: the training script's modules import torch

        try:
            source = generate_keras_model(graph, analysis, title).source
            if training is not None:
                source += "\n\n" + "\n".join(compile_fit_lines(training)) + "\n"
        except KerasExportError as exc:
            self.keras_source = None
            layers = f"{exc.count} layer{'s' if exc.count > 1 else ''}"
            words = f"TorchCanvas does not translate {layers} of this network to Keras yet."
            self._status[self.KERAS] = f"<span style='color:#d93025'>{words}</span>"
            self._set_text(self.keras_editor, _as_comment(str(exc)))
        except CodegenError as exc:
            self.keras_source = None
            self._status[self.KERAS] = "<span style='color:#d93025'>Fix the problems to see the code.</span>"
            self._set_text(self.keras_editor, _as_comment(str(exc)))
        else:
            self.keras_source = source
            self._status[self.KERAS] = f"Keras 3 model <b>build_model()</b> — {len(source.splitlines())} lines"
            self._set_text(self.keras_editor, source)

    def _tab_changed(self, index: int) -> None:
        if index == self.KERAS:
            self._update_keras()
        self._show_status()

    def _show_status(self) -> None:
        index = self.tabs.currentIndex()
        self.status.setText(self._status[index])
        has_code = (self.code if index == self.PYTORCH else self.keras_source) is not None
        self.copy_button.setEnabled(has_code)
        self.export_button.setEnabled(has_code)

    def _export_clicked(self) -> None:
        (self.export_requested if self.tabs.currentIndex() == self.PYTORCH else self.keras_export_requested).emit()

    @staticmethod
    def _set_text(editor: QPlainTextEdit, text: str) -> None:
        if editor.toPlainText() == text:
            return
        bar = editor.verticalScrollBar()
        keep = bar.value()
        editor.blockSignals(True)
        editor.setPlainText(text)
        editor.blockSignals(False)
        bar.setValue(keep)

    def text(self) -> str:
        return self.editor.toPlainText()

    def keras_text(self) -> str:
        return self.keras_editor.toPlainText()

    def copy(self) -> None:
        source = self.code.source if self.code is not None else None
        if self.tabs.currentIndex() == self.KERAS:
            source = self.keras_source
        if source is not None:
            QGuiApplication.clipboard().setText(source)
            self.status.setText("Copied the model code to the clipboard.")

    def _cursor_moved(self) -> None:
        if self.code is None:
            return
        node_id = self.code.node_at(self.editor.textCursor().blockNumber() + 1)
        if node_id:
            self.node_clicked.emit(node_id)
