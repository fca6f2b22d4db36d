"""The main window: canvas in the centre, palette left, inspector right, problems and code at the bottom.

Each dock is made by a small ``_make_*`` method through ``add_dock``, which later parts (the training
dashboard) use too. The window holds no model state: that is ``window.document``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QMessageBox, QToolBar, QWidget

from core.model.analysis import Analysis
from core.model.shape_rules import fmt
from core.model.summary import params_line
from gui.canvas.canvas_tabs import CanvasTabs
from gui.canvas.editor import Editor
from gui.canvas.scene import GraphScene
from gui.canvas.view import GraphView
from gui.inspect import layer_output
from gui.inspect.summary_dock import install as install_summary
from gui.panels.codeview import CodeView
from gui.panels.inspector import Inspector
from gui.panels.palette import Palette
from gui.panels.problems import ProblemsList
from gui.shell.actions import build_actions, build_menus
from gui.shell.document import Document
from gui.shell.project_files import ProjectFiles
from gui.shell.words import HELP, model_only, problem_summary
from gui.training.host import DashboardHost

if TYPE_CHECKING:
    from gui.data.wizard import DataWizard
    from gui.shell.recovery import Autosaver
    from gui.training.dashboard import TrainingDashboard


class MainWindow(ProjectFiles):
    # The palette dock shadows QWidget.palette() (the colours); the name is used across the GUI and its tests, and
    # Qt's C++ never reads this Python attribute, so only the type checker sees the clash.
    palette: Palette  # type: ignore[assignment]

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
        self.autosaver: Autosaver | None = None  # set by shell.app once the window is shown
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
        self.canvas_tabs = self._make_canvas_tabs()  # the network's canvas, and a tab per opened block definition
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
        from gui.training.window import install  # deferred for start-up: pyqtgraph, after the first paint

        self.training_dashboard = install(self.dashboard_host())
        layer_output.attach_dashboard(self.layer_output, self.training_dashboard)
        return self.training_dashboard

    def _make_canvas_tabs(self) -> CanvasTabs:
        """The canvas tabs get the document (as ``gui.canvas.host.CanvasDocument``) and the network's view; the Block
        menu, the Edit actions, the status bar, the inspector and the palette follow them through the wiring here."""
        tabs = CanvasTabs(self.document, self.view, self)
        menu = self.menuBar().addMenu("&Block")
        for action in tabs.actions_.values():
            self.addAction(action)
            menu.addAction(action)
        tabs.route_edit_actions(self.action_map)
        tabs.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        tabs.editor_shown.connect(self._on_canvas_shown)
        tabs.selection_shown.connect(self.inspector.show_node)
        tabs.block_analysed.connect(self.inspector.sync)
        tabs.blocks_changed.connect(self.palette.set_blocks)
        self.inspector.open_block = tabs.open_from_here
        return tabs

    def _on_canvas_shown(self, editor: Editor) -> None:
        """Another canvas tab is shown: the inspector edits through its editor, starting with nothing selected."""
        self.inspector.editor = editor
        self.inspector.show_node(None)

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

    def show_help(self) -> None:
        QMessageBox.information(self, "How to use the canvas", HELP)

    # --- your own data ----------------------------------------------------------------------------------------
    def open_data_dialog(self, folder: bool = False) -> None:
        """Data > Open… (a file) and Data > Open Folder… (one sub-folder per class): then the data wizard."""
        from gui.data.opening import ask_data_path  # deferred for start-up: gui.data loads after the first paint

        path = ask_data_path(self, folder, self._last_dir())
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
