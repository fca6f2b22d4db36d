"""The open document: a project, the file it lives in, its undo stack and its latest analysis.

The window exposes it as ``window.document``. Other parts (autosave, the training dashboard) connect to its
signals: ``project_replaced`` when New/Open swaps the project, ``modified_changed`` with the undo stack's clean
state, ``analyzed`` after the graph changed (coalesced: many model signals in one event-loop turn give one
analysis).
"""

from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from core import project as project_io
from core.analysis import Analysis, analyze
from core.project import Project


class Document(QObject):
    project_replaced = Signal()  # a new project object (New, Open, Open Example)
    modified_changed = Signal(bool)
    path_changed = Signal()
    analyzed = Signal(object)  # Analysis
    saved = Signal(str)

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.path: Path | None = None
        self.project = project or Project()
        self._analysis: Analysis | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.project.graph.changed.connect(self._schedule)

    # --- state ---------------------------------------------------------------------------------------------
    @property
    def graph(self):
        return self.project.graph

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else f"{self.project.name} (unsaved)"

    @property
    def analysis(self) -> Analysis:
        if self._analysis is None or self._timer.isActive():
            self.refresh()
        assert self._analysis is not None
        return self._analysis

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _schedule(self) -> None:
        self._timer.start()

    def refresh(self) -> None:
        """Analyse now (normally called once per event-loop turn after the graph changed)."""
        self._timer.stop()
        self._analysis = analyze(self.project.graph)
        self.analyzed.emit(self._analysis)

    # --- replacing the project ---------------------------------------------------------------------------------
    def set_project(self, project: Project, path: str | Path | None = None) -> None:
        self.project.graph.changed.disconnect(self._schedule)
        self.undo_stack.clear()
        self.project = project
        self.path = Path(path) if path is not None else None
        project.graph.changed.connect(self._schedule)
        self._analysis = None
        self.project_replaced.emit()
        self.path_changed.emit()
        self.modified_changed.emit(False)
        self.refresh()

    def new(self) -> None:
        self.set_project(Project())

    def open(self, path: str | Path) -> None:
        """Load a project file (raises ``ProjectLoadError`` with a plain message)."""
        self.set_project(project_io.load(path), path)

    def open_copy(self, path: str | Path) -> None:
        """Load a file as a new untitled project (examples): saving asks for a new place."""
        self.set_project(project_io.load(path))

    def save(self) -> None:
        if self.path is None:
            raise ValueError("This project has no file yet: use save_as(path).")
        project_io.save(self.project, self.path)
        self.undo_stack.setClean()
        self.saved.emit(str(self.path))

    def save_as(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.project.name in ("", "Untitled"):
            self.project.name = self.path.stem
        self.path_changed.emit()
        self.save()

    def snapshot(self) -> Project:
        """A deep copy of the project as it is now (for autosave or a training run)."""
        return project_io.from_dict(copy.deepcopy(self.project.to_dict()))
