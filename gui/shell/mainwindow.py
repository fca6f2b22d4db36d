"""The main window: canvas in the centre, palette left, inspector right, problems and code at the bottom.

Each dock is made by a small ``_make_*`` method through ``add_dock``, which later parts (the training
dashboard) use too. The window holds no model state: that is ``window.document``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QToolBar, QWidget

from core.cli import DEFAULT_EXAMPLE
from core.code.codegen import CodegenError, generate_model
from core.errors import TorchCanvasError
from core.files import project as project_io
from core.files.fileio import atomic_write_text
from core.model.analysis import Analysis
from core.model.layout import layered_layout
from core.model.shape_rules import fmt
from core.model.summary import params_line
from gui.canvas.canvas_tabs import CanvasTabs
from gui.canvas.editor import COLUMN_GAP, ROW_GAP, Editor, view_aspect
from gui.canvas.scene import GraphScene
from gui.canvas.view import GraphView
from gui.inspect import layer_output
from gui.inspect.summary_dock import install as install_summary
from gui.panels.codeview import CodeView
from gui.panels.gallery import ExampleGallery
from gui.panels.inspector import Inspector
from gui.panels.palette import Palette
from gui.panels.problems import ProblemsList
from gui.shell import file_dialogs
from gui.shell.actions import build_actions, build_menus, file_stem
from gui.shell.document import Document
from gui.shell.file_dialogs import add_recent, fill_recent_menu, last_dir, recent_paths
from gui.shell.words import HELP, model_only, problem_summary, save_failure
from gui.training.host import DashboardHost

if TYPE_CHECKING:
    from gui.data.wizard import DataWizard
    from gui.training.dashboard import TrainingDashboard

FILTER = "TorchCanvas projects (*.json);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, document: Document | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.document = document or Document(parent=self)
        self.settings = settings or QSettings("TorchCanvas", "TorchCanvas")
        self.scene = GraphScene(self.document.graph, self)
        self.editor = Editor(self.document, self.scene, self)
        self.view = GraphView(self.scene, self.editor)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QDockWidget] = {}
        self.editing_locked = False
        self.training_dashboard: TrainingDashboard | None = None  # once install_training() docked it
        self._shown_once = False
        self.recent_menu: QMenu
        self.view_menu: QMenu
        self.action_map = build_actions(self)
        build_menus(self, self.action_map)
        self.palette = self._make_palette_dock()
        self.inspector = self._make_inspector_dock()
        self.problems = self._make_problems_dock()
        self.code_view = self._make_code_dock()
        self.summary = install_summary(self)  # check's table as a dock, tabbed with the code (gui.inspect)
        self.layer_output = layer_output.install(self)  # the selected node's output for one sample
        self.canvas_tabs = CanvasTabs(self)  # the network's canvas, and a tab per opened block definition
        self.setCentralWidget(self.canvas_tabs)
        self._make_status_bar()
        self._bind()
        self._update_recent_menu()
        self.resize(1600, 1000)
        self._on_project_replaced()

    # --- construction ----------------------------------------------------------------------------------------
    def add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str, width: int = 0, height: int = 0
    ) -> QDockWidget:
        """Add a dock (also listed in the View menu); extensions such as the training dashboard use this."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if width:
            self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        if height:
            self.resizeDocks([dock], [height], Qt.Orientation.Vertical)
        self.docks[name] = dock
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def dashboard_host(self) -> DashboardHost:
        """What the training dashboard may use of this window (see ``gui.training.host``)."""
        toolbar = self.findChild(QToolBar, "main_toolbar")
        code = self.docks.get("code")
        return DashboardHost(self, self.document, self.add_dock, self.set_editing_locked, code, toolbar)

    def install_training(self) -> TrainingDashboard:
        """Dock the training dashboard and keep it (File > Export uses its last run)."""
        from gui.training.window import install

        self.training_dashboard = install(self.dashboard_host())
        layer_output.attach_dashboard(self.layer_output, self.training_dashboard)
        return self.training_dashboard

    def _make_palette_dock(self) -> Palette:
        palette = Palette()
        palette.layer_activated.connect(self.view.add_from_palette)  # lands in view, wired after the selection
        self.add_dock("Layers", palette, Qt.DockWidgetArea.LeftDockWidgetArea, "palette", width=180)
        return palette

    def _make_inspector_dock(self) -> Inspector:
        inspector = Inspector(self.editor)
        self.add_dock("Inspector", inspector, Qt.DockWidgetArea.RightDockWidgetArea, "inspector", width=300)
        return inspector

    def _make_problems_dock(self) -> ProblemsList:
        problems = ProblemsList()
        problems.node_activated.connect(self.select_node)
        self.add_dock("Problems", problems, Qt.DockWidgetArea.BottomDockWidgetArea, "problems", height=250)
        return problems

    def _make_code_dock(self) -> CodeView:
        code = CodeView()
        code.export_requested.connect(self.export_code_dialog)
        code.keras_export_requested.connect(self._export_keras)
        code.node_clicked.connect(lambda nid: self.scene.select_nodes([nid]))
        dock = self.add_dock("Code", code, Qt.DockWidgetArea.BottomDockWidgetArea, "code")
        self.splitDockWidget(self.docks["problems"], dock, Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["problems"], dock], [300, 1200], Qt.Orientation.Horizontal)
        return code

    def _make_status_bar(self) -> None:
        self.params_label = QLabel()
        self.output_label = QLabel()
        self.valid_label = QLabel()
        bar = self.statusBar()
        for label in (self.valid_label, self.output_label, self.params_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def _bind(self) -> None:
        doc = self.document
        doc.project_replaced.connect(self._on_project_replaced)
        doc.analyzed.connect(self._on_analyzed)
        doc.modified_changed.connect(lambda _m: self.update_title())
        doc.path_changed.connect(self.update_title)
        self.scene.selectionChanged.connect(self._on_selection_changed)
        self.editor.message.connect(lambda text: self.statusBar().showMessage(text, 6000))

    # --- document events --------------------------------------------------------------------------------------
    def _on_project_replaced(self) -> None:
        self.scene.set_graph(self.document.graph)
        self.inspector.show_node(None)
        self._on_analyzed(self.document.analysis)
        self.update_title()
        QTimer.singleShot(0, self.view.fit_all)

    def _on_analyzed(self, analysis: Analysis) -> None:
        graph = self.document.graph
        self.scene.set_analysis(analysis)
        self.problems.set_analysis(analysis)
        project = self.document.project
        self.code_view.update_code(graph, model_only(analysis), project.name, project.training)
        self.inspector.sync()
        self.params_label.setText(params_line(graph, analysis))  # "(N trainable, M frozen)" when some are frozen
        outputs = [fmt(s) for s in analysis.output_shapes(graph)]
        self.output_label.setText(f"Output: {', '.join(outputs) if outputs else 'none'}")
        errors = analysis.errors
        if errors:
            self.valid_label.setText(f"<span style='color:#d93025'>✗ {problem_summary(graph, errors)}</span>")
            self.valid_label.setToolTip("\n".join(p.message for p in errors))
        else:
            self.valid_label.setText("<span style='color:#188038'>✓ Valid network</span>")
            self.valid_label.setToolTip("The network is valid and fits its dataset and loss: ▶ Train can start.")

    def _on_selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        if len(ids) == 1:
            if ids[0] != self.inspector.node_id:
                self.inspector.show_node(ids[0])
        else:
            self.inspector.show_node(None, len(ids))

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — TorchCanvas")
        self.setWindowModified(self.document.modified)

    def set_editing_locked(self, locked: bool) -> None:
        """Make the network read-only (while a training run uses it) or editable again."""
        self.editing_locked = locked
        self.view.setInteractive(not locked)
        self.view.setAcceptDrops(not locked)
        self.palette.setEnabled(not locked)
        self.inspector.setEnabled(not locked)
        self.canvas_tabs.set_locked(locked)  # the opened blocks' canvases too
        for key in (
            "new",
            "open",
            "example",
            "cut",
            "paste",
            "duplicate",
            "delete",
            "layout",
            "layout_tb",
            "undo",
            "redo",
            "open_data",
            "open_data_folder",
        ):
            self.action_map[key].setEnabled(not locked)
        if not locked:  # the undo actions follow the stack again
            stack = self.document.undo_stack
            self.action_map["undo"].setEnabled(stack.canUndo())
            self.action_map["redo"].setEnabled(stack.canRedo())
        self.statusBar().showMessage("The network is read-only while training runs." if locked else "", 4000)

    def select_node(self, node_id: str) -> None:
        if node_id in self.scene.nodes:
            self.scene.select_nodes([node_id])
            self.view.center_on_node(node_id)

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
            from core.files.export import check_output

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
        from gui.training.actions import export_from_window

        export_from_window(self, "keras")

    def export_code_dialog(self) -> None:
        stem = file_stem(self.document.project.name, self.document.path)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export model code", str(Path(self._last_dir()) / f"{stem}_model.py"), "Python files (*.py)"
        )
        if path:
            self.export_code(path)

    def show_help(self) -> None:
        QMessageBox.information(self, "How to use the canvas", HELP)

    # --- your own data ----------------------------------------------------------------------------------------
    def open_data_dialog(self, folder: bool = False) -> None:
        """Data > Open… (a file) and Data > Open Folder… (one sub-folder per class): then the data wizard."""
        path = file_dialogs.ask_data_path(self, folder, self._last_dir())
        if path:
            self.open_data(path)

    def open_data(self, path: str | Path) -> DataWizard | None:
        """Show the training dock and the data wizard for ``path`` (the wizard, or None when it is no data)."""
        dashboard = self.training_dashboard or self.install_training()
        dock = self.docks.get("training")
        if dock is not None:
            dock.show()
            dock.raise_()
        return dashboard.panel.open_data_path(str(path))

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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:  # first show: give the canvas most of the height, whatever docks were added
            self._shown_once = True
            # the canvas shows a chain in a strip; the training settings and curves below need the height more
            self.resizeDocks([self.docks["problems"]], [max(340, self.height() * 40 // 100)], Qt.Orientation.Vertical)
            QTimer.singleShot(0, self.view.fit_all)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.maybe_save():
            event.accept()
        else:
            event.ignore()
