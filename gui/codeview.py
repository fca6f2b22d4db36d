"""The live code view: the generated ``nn.Module``, syntax highlighted, read-only, with Copy and Export."""

from __future__ import annotations

import keyword
import re
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from core.analysis import Analysis
from core.codegen import CodegenError, GeneratedCode, generate_model
from core.graph import Graph
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
        (re.compile(r"\b(self|super|torch|nn)\b"), _format("#1565c0")),
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


class CodeView(QWidget):
    export_requested = Signal()
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code: GeneratedCode | None = None
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(style.font(9.5, mono=True))
        self.editor.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.editor.cursorPositionChanged.connect(self._cursor_moved)
        self.highlighter = PythonHighlighter(self.editor.document())
        self.status = QLabel()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the model code to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the model code as a Python file")
        self.export_button.clicked.connect(self.export_requested)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.editor)

    def update_code(self, graph: Graph, analysis: Analysis, title: str = "") -> None:
        try:
            code = generate_model(graph, title=title, analysis=analysis)
        except CodegenError as exc:
            self.code = None
            lines = str(exc).splitlines()
            text = "\n".join(["# " + lines[0], *(f"#   {line}" for line in lines[1:])])
            self.status.setText("<span style='color:#d93025'>Fix the problems to see the code.</span>")
            self._set_text(text)
            self.copy_button.setEnabled(False)
            self.export_button.setEnabled(False)
            return
        self.code = code
        self.status.setText(f"PyTorch model <b>{code.class_name}</b> — {len(code.source.splitlines())} lines")
        self._set_text(code.source)
        self.copy_button.setEnabled(True)
        self.export_button.setEnabled(True)

    def _set_text(self, text: str) -> None:
        if self.editor.toPlainText() == text:
            return
        bar = self.editor.verticalScrollBar()
        keep = bar.value()
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        bar.setValue(keep)

    def text(self) -> str:
        return self.editor.toPlainText()

    def copy(self) -> None:
        if self.code is not None:
            QGuiApplication.clipboard().setText(self.code.source)
            self.status.setText("Copied the model code to the clipboard.")

    def _cursor_moved(self) -> None:
        if self.code is None:
            return
        node_id = self.code.node_at(self.editor.textCursor().blockNumber() + 1)
        if node_id:
            self.node_clicked.emit(node_id)
