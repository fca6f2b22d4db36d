"""The canvas talks to a small protocol (``gui.canvas.host.CanvasDocument``), not to the shell's document (issue 25):
it loads nothing of the shell, and an editor works over any document that keeps the protocol."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.files.project import Project
from core.model.analysis import Analysis, analyze
from core.model.graph import Graph
from gui.canvas.editor import Editor
from gui.canvas.scene import GraphScene
from tests.conftest import REPO


def test_the_canvas_loads_nothing_of_the_shell():
    code = (
        "import sys, gui.canvas.canvas_tabs, gui.canvas.editor, gui.canvas.clipboard; "
        "print(sorted(m for m in sys.modules if m.startswith('gui.shell')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


class PlainDocument(QObject):
    """A document that is not the shell's: a project, an undo stack and an analysis done on request."""

    analyzed = Signal(object)
    project_replaced = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.project = Project()
        self.undo_stack = QUndoStack(self)
        self.asked = 0

    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def analysis(self) -> Analysis:
        return analyze(self.project.graph, self.project.training)

    def schedule_analysis(self) -> None:
        self.asked += 1


def test_an_editor_edits_any_document_that_keeps_the_protocol(qtbot):
    document = PlainDocument()
    scene = GraphScene(document.graph)
    editor = Editor(document, scene)
    before = len(document.graph)
    node = editor.add_layer("Linear", (0.0, 0.0))
    assert node.id in document.graph and document.undo_stack.count() == 1
    assert editor.analysis.nodes  # the inspector's shapes come from the document's analysis
    document.undo_stack.undo()
    assert len(document.graph) == before
