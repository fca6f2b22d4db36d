"""The open document: a project, the file it lives in, its undo stack and its latest analysis.

The window exposes it as ``window.document``. Other parts (autosave, the training dashboard) connect to its
signals: ``project_replaced`` when New/Open swaps the project, ``modified_changed`` with the undo stack's clean
state, ``training_changed`` when the project's training settings were set (an edit, its undo or redo: the project's
own ``training_changed`` as a Qt signal), ``analyzed`` after the graph or the training settings changed (coalesced:
many model signals in one event-loop turn give one analysis). The analysis checks the network against its dataset
and loss too.

It also remembers what its file looked like when it was opened or last saved (``DiskStamp``), so a save can see
that another window or program changed the file meanwhile instead of silently dropping that edit.
"""

from __future__ import annotations

import copy
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from core.files import project as project_io
from core.files.fileread import FileReadError, read_regular_file
from core.files.initial_weights import carry_initial_weights
from core.files.project import Project
from core.model.analysis import Analysis, analyze
from core.model.graph import Graph


@dataclass(frozen=True)
class DiskStamp:
    """What a file was like: modification time and size (cheap to compare), and a hash of its bytes (so a file
    merely touched, or rewritten with the same content, does not count as changed)."""

    mtime_ns: int
    size: int
    sha256: str


def disk_stamp(path: str | os.PathLike[str]) -> DiskStamp | None:
    """The file's stamp now, or None when it is not a project file that can be read: gone, a folder, no
    permission, a FIFO or a device (opening a FIFO would wait for a writer forever, hashing ``/dev/zero`` never
    ends), or larger than a project file may be. ``os.stat`` decides before anything is opened; the one guarded
    reader (``read_regular_file``: opened without blocking, checked again) then reads it."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > project_io.MAX_FILE_BYTES:
            return None
        data = read_regular_file(path, project_io.MAX_FILE_BYTES, "project file")
    except (OSError, FileReadError):
        return None
    return DiskStamp(info.st_mtime_ns, info.st_size, hashlib.sha256(data).hexdigest())


def changed_since(path: str | os.PathLike[str], stamp: DiskStamp | None) -> bool:
    """True when the file now holds other bytes than when ``stamp`` was taken. A file that is gone or unreadable
    is not "changed" (saving writes it anew; the save reports any error)."""
    if stamp is None:
        return False
    try:
        info = os.stat(path)
    except OSError:
        return False
    if info.st_mtime_ns == stamp.mtime_ns and info.st_size == stamp.size:
        return False
    now = disk_stamp(path)
    return now is not None and now.sha256 != stamp.sha256


class Document(QObject):
    project_replaced = Signal()  # a new project object (New, Open, Open Example)
    modified_changed = Signal(bool)
    path_changed = Signal()
    analyzed = Signal(object)  # Analysis
    training_changed = Signal(object)  # TrainingSettings, after Project.set_training
    saved = Signal(str)

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.path: Path | None = None
        self.disk: DiskStamp | None = None  # the file as this document last read or wrote it
        self.project = project or Project()
        self._analysis: Analysis | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.project.graph.changed.connect(self.schedule_analysis)
        self.project.training_changed.connect(self._training_changed)

    # --- state ---------------------------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
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

    def changed_on_disk(self) -> bool:
        """True when the document's file was changed by someone else since it was opened or last saved here."""
        return self.path is not None and changed_since(self.path, self.disk)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def schedule_analysis(self) -> None:
        """Analyse at the next event-loop turn (many changes in one turn give one analysis); the canvas asks this
        when a block definition's graph changed, which the network's shapes read."""
        self._timer.start()

    def _training_changed(self, settings: object) -> None:
        """A dataset or loss chosen (or undone) changes what the network must output: analyse again."""
        self.schedule_analysis()
        self.training_changed.emit(settings)

    def refresh(self) -> None:
        """Analyse now (normally called once per event-loop turn after the graph changed)."""
        self._timer.stop()
        self._analysis = analyze(self.project.graph, self.project.training)
        self.analyzed.emit(self._analysis)

    # --- replacing the project ---------------------------------------------------------------------------------
    def set_project(self, project: Project, path: str | Path | None = None, stamp: DiskStamp | None = None) -> None:
        self.project.graph.changed.disconnect(self.schedule_analysis)
        self.project.training_changed.disconnect(self._training_changed)
        self.undo_stack.clear()
        self.project = project
        self.path = Path(path) if path is not None else None
        self.disk = stamp
        project.graph.changed.connect(self.schedule_analysis)
        project.training_changed.connect(self._training_changed)
        self._analysis = None
        self.project_replaced.emit()
        self.path_changed.emit()
        self.modified_changed.emit(False)
        self.refresh()

    def new(self) -> None:
        self.set_project(Project())

    def open(self, path: str | Path) -> None:
        """Load a project file (raises ``ProjectLoadError`` with a plain message).

        A file opened through a symbolic link becomes the document's file itself: Save then writes the file the
        user chose to open, as every editor does, while the atomic writer still never writes through a link it
        was merely handed (an export's ``--force`` onto a planted link to ``~/.bashrc``)."""
        if os.path.islink(path):
            path = os.path.realpath(path)
        stamp = disk_stamp(path)  # before reading: a change in between is then seen as a change, not missed
        self.set_project(project_io.load(path), path, stamp)

    def open_copy(self, path: str | Path) -> None:
        """Load a file as a new untitled project (examples): saving asks for a new place."""
        self.set_project(project_io.load(path))

    def save(self) -> None:
        """Write the file (atomically; a failure raises ``ProjectSaveError`` and changes nothing). Whether someone
        else changed the file meanwhile is the caller's question to ask first (``changed_on_disk``)."""
        if self.path is None:
            raise ValueError("This project has no file yet: use save_as(path).")
        self._write(self.path)

    def save_as(self, path: str | Path) -> None:
        """Write to ``path`` and make it the document's file, only once the write succeeded: after a failure the
        document keeps its old path and title, so Save still goes where it went before."""
        target = Path(path)
        old_name, old_extra = self.project.name, dict(self.project.extra)
        if old_name in ("", "Untitled"):
            self.project.name = target.stem
        try:
            if "initial_weights" in self.project.extra:  # an imported model's weights go along
                carry_initial_weights(self.project, self.path, target)
            self._write(target)
        except BaseException:
            self.project.name, self.project.extra = old_name, old_extra
            raise
        if target != self.path:
            self.path = target
            self.path_changed.emit()

    def _write(self, path: Path) -> None:
        project_io.save(self.project, path)
        self.disk = disk_stamp(path)
        self.undo_stack.setClean()
        self.saved.emit(str(path))

    def snapshot(self) -> Project:
        """A deep copy of the project as it is now (for autosave or a training run)."""
        return project_io.from_dict(copy.deepcopy(self.project.to_dict()))
