"""The canvas talks to a small protocol (``gui.canvas.host.CanvasDocument``), not to the shell's document (issue 25):
it loads nothing of the shell, and an editor works over any document that keeps the protocol."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.files.project import Project
from core.model.analysis import Analysis, analyze
from core.model.graph import Graph
from gui.canvas.editor import Editor
from gui.canvas.scene import GraphScene
from tests.conftest import REPO


@pytest.mark.slow  # a child process imports Qt and the canvas: about a second
def test_the_canvas_loads_nothing_of_the_shell():
    code = (
        "import sys, gui.canvas.canvas_tabs, gui.canvas.editor, gui.canvas.clipboard; "
        "print(sorted(m for m in sys.modules if m.startswith('gui.shell')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_canvas_names_nothing_above_it_not_even_as_a_type():
    """The canvas tabs took the window (a type-only import of the shell's MainWindow) and set the inspector's and
    the palette's state through it; now they get the document and the network's view, and signal the rest."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    floors = next(c for c in contracts if c.get("containers") == ["gui"])["layers"]
    above = {f"gui.{name.strip()}" for floor in floors[: floors.index("canvas")] for name in floor.split("|")}
    named = []
    for path in sorted((REPO / "gui" / "canvas").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            named += [f"{path.name}: {m}" for m in modules if any(m == a or m.startswith(a + ".") for a in above)]
    assert named == []


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
