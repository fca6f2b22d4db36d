"""The main window's project files: New, Open, an example, Save (asking first when the file changed elsewhere),
Save As, Export Code, and the recent-files menu.

``MainWindow`` (gui.shell.mainwindow) is built on this class: it owns the document, the settings and the scene these
methods work on. A failure becomes one plain message (what, which file, why), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from core.cli import DEFAULT_EXAMPLE
from core.code.codegen import CodegenError, generate_model
from core.errors import TorchCanvasError
from core.files import project as project_io
from core.files.fileio import atomic_write_text
from core.model.layout import layered_layout
from gui.canvas.editor import COLUMN_GAP, ROW_GAP, view_aspect
from gui.panels.gallery import ExampleGallery
from gui.shell import file_dialogs
from gui.shell.file_dialogs import add_recent, fill_recent_menu, last_dir, recent_paths
from gui.shell.words import save_failure
from gui.training.actions import export_from_window, file_stem

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMenu

    from gui.canvas.scene import GraphScene
    from gui.shell.document import Document
    from gui.shell.mainwindow import MainWindow

FILTER = "TorchCanvas projects (*.json);;All files (*)"


class ProjectFiles(QMainWindow):
    """The file half of ``MainWindow``: the attributes below are the window's, set in its ``__init__``."""

    document: Document
    settings: QSettings
    scene: GraphScene
    recent_menu: QMenu

    # --- files ------------------------------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded, or unmodified)."""
        if not self.document.modified:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.document.display_name} before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self.document.new()

    def open_file(self, path: str | Path) -> bool:
        try:
            self.document.open(path)
        except TorchCanvasError as exc:
            self.show_error("Could not open the project", str(exc))
            return False
        self._add_recent(path)
        return True

    def open_example(self, path: str | Path = DEFAULT_EXAMPLE) -> bool:
        """Open an example as an untitled copy, laid out for the canvas."""
        try:
            project = project_io.load(path)
        except TorchCanvasError as exc:
            self.show_error("Could not open the example", str(exc))
            return False
        aspect = view_aspect(self.scene)
        for node_id, pos in layered_layout(project.graph, "lr", COLUMN_GAP, ROW_GAP, (0.0, 0.0), aspect).items():
            project.graph.set_pos(node_id, pos)
        self.document.set_project(project)
        return True

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self._last_dir(), FILTER)
        if path:
            self.open_file(path)

    def open_example_dialog(self) -> None:
        if not self.maybe_save():
            return
        gallery = ExampleGallery(self)
        if gallery.exec() and gallery.chosen() is not None:
            self.open_example(gallery.chosen())  # type: ignore[arg-type]

    def save(self) -> bool:
        """Save to the document's file; when another window or program changed that file since it was opened or
        saved here, ask first (reload it, overwrite it, or save under another name) instead of dropping its edit."""
        path = self.document.path
        if path is None:
            return self.save_as_dialog()
        if self.document.changed_on_disk():
            choice = file_dialogs.ask_file_changed(self, path)
            if choice == "reload":
                self.open_file(path)
                return False  # the edits here were dropped for the file's version: nothing of ours was saved
            if choice == "save_as":
                return self.save_as_dialog()
            if choice != "overwrite":
                self.statusBar().showMessage(f"Not saved: {path.name} was changed by another program.", 6000)
                return False
        if not self._write(self.document.save, path):
            return False
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def save_as(self, path: str | Path) -> bool:
        """Save under ``path``; on failure the document keeps its old file and title (Save still works)."""
        if self.document.path is not None and Path(path) == self.document.path:
            return self.save()  # the same file: the same check for a change made elsewhere
        if not self._write(lambda: self.document.save_as(path), path):
            return False
        self._add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def _write(self, write: Callable[[], object], path: str | Path) -> bool:
        """Run a save; any failure becomes one message naming the file (never an uncaught OSError)."""
        try:
            write()
        except TorchCanvasError as exc:  # core's message already names the path and the cause
            self.show_error("Could not save the project", str(exc))
            return False
        except (OSError, RuntimeError) as exc:  # what core did not put in words (e.g. a symbolic-link loop)
            self.show_error("Could not save the project", f"Could not save {path}: {save_failure(exc)}.")
            return False
        return True

    def save_as_dialog(self) -> bool:
        start = str(Path(self._last_dir()) / f"{self.document.project.name.replace(' ', '_').lower()}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", start, FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self.save_as(path)

    def export_code(self, path: str | Path) -> bool:
        try:
            from core.files.export import check_output  # deferred for start-up: the exporter imports torch

            check_output(path)  # an ExportError (a TorchCanvasError): never over a project file
            code = generate_model(self.document.graph, title=self.document.project.name)
            atomic_write_text(path, code.source)  # core.files.fileio: the old file survives a failed write
        except CodegenError as exc:
            self.show_error("The network has problems", str(exc))
            return False
        except TorchCanvasError as exc:  # FileWriteError names the path and the cause
            self.show_error("Could not export the code", str(exc))
            return False
        self.statusBar().showMessage(f"Exported the model code to {path}", 4000)
        return True

    def _export_keras(self) -> None:
        export_from_window(cast("MainWindow", self), "keras")  # this class is the file half of MainWindow

    def export_code_dialog(self) -> None:
        stem = file_stem(self.document.project.name, self.document.path)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export model code", str(Path(self._last_dir()) / f"{stem}_model.py"), "Python files (*.py)"
        )
        if path:
            self.export_code(path)

    # --- recent files -----------------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return recent_paths(self.settings)

    def _add_recent(self, path: str | Path) -> None:
        add_recent(self.settings, path)
        self._update_recent_menu()

    def _last_dir(self) -> str:
        return last_dir(self.settings)

    def _update_recent_menu(self) -> None:
        fill_recent_menu(self.recent_menu, self.recent_files(), lambda p: self.maybe_save() and self.open_file(p))
