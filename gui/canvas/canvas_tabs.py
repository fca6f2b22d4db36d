"""Canvas tabs: the network in the first tab, each opened block definition in a tab of its own, and a breadcrumb
(Network › BasicBlockDown › Downsample) whose links go back up.

A block's tab is a ``GraphScene`` on the definition's own graph with an ``Editor`` whose ``block`` names it, so
every edit there is a command on the document's one undo stack; the definition is shared by every instance, so
the network's shapes and code follow (the document analyses again when a definition's graph changes). The Block
menu (Make Block, Open, Ungroup) acts on the tab shown.

The tabs know the document through ``gui.canvas.host.CanvasDocument`` and the network's own canvas; what the
window's panels should follow (the editor shown, its selection, a block analysed, the library) they signal, and the
window wires them (``gui.shell.mainwindow``): the canvas knows nothing of the shell or the panels above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from core.model.analysis import analyze
from core.model.blocks import BlockDef, refresh_instances
from gui.canvas.editor import Editor
from gui.canvas.host import CanvasDocument
from gui.canvas.scene import GraphScene
from gui.canvas.view import GraphView


@dataclass
class BlockTab:
    path: list[str]  # the definitions opened on the way here; the last is this tab's
    definition: BlockDef  # the definition shown (a tab whose definition left the project closes)
    scene: GraphScene
    editor: Editor
    view: GraphView

    @property
    def name(self) -> str:
        return self.path[-1]


class CanvasTabs(QWidget):
    message = Signal(str)  # a block tab's editor refused an edit or hints (the network's editor says its own)
    editor_shown = Signal(object)  # the Editor of the canvas now shown: the inspector edits through it
    selection_shown = Signal(object, int)  # a block tab's selection: the one node id (or None) and how many
    block_analysed = Signal()  # the shown block tab's analysis is new: the inspector's shapes follow
    blocks_changed = Signal(object)  # the project's block library after an analysis: the palette lists it

    def __init__(self, document: CanvasDocument, view: GraphView, parent: QWidget | None = None) -> None:
        """``view`` is the network's canvas (its editor ``view.editor``, whose ``scene`` it shows)."""
        super().__init__(parent)
        self.document = document
        self.network_view = view
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.addTab(view, "Network")
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.LeftSide, None)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_current_changed)
        self.tabs.tabBar().setVisible(False)
        self.breadcrumb = QLabel()
        self.breadcrumb.setObjectName("breadcrumb")
        self.breadcrumb.setTextFormat(Qt.TextFormat.RichText)
        self.breadcrumb.setContentsMargins(8, 3, 8, 3)
        self.breadcrumb.linkActivated.connect(self._on_link)
        self.breadcrumb.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.tabs)
        self.block_tabs: list[BlockTab] = []
        self.locked = False
        view.block_open_requested.connect(lambda nid: self.open_instance(nid, []))
        document.analyzed.connect(self._on_analyzed)
        document.project_replaced.connect(self.close_all)
        self._watched: set[int] = set()
        self.actions_ = self._block_actions()

    # --- which canvas is shown ---------------------------------------------------------------------------------
    def current(self) -> BlockTab | None:
        widget = self.tabs.currentWidget()
        return next((t for t in self.block_tabs if t.view is widget), None)

    def current_editor(self) -> Editor:
        tab = self.current()
        return tab.editor if tab else self.network_view.editor

    def current_view(self) -> GraphView:
        tab = self.current()
        return tab.view if tab else self.network_view

    def show_network(self) -> None:
        self.tabs.setCurrentIndex(0)

    # --- opening and closing ------------------------------------------------------------------------------------
    def open_from_here(self, name: str) -> BlockTab | None:
        """Open definition ``name`` from the canvas shown (the inspector's Open button): the path goes on from it."""
        tab = self.current()
        return self.open_block(name, tab.path if tab else [])

    def open_instance(self, node_id: str, path: list[str]) -> BlockTab | None:
        graph = self.current_editor().graph
        node = graph.node(node_id)
        if node.block is None:
            return None
        return self.open_block(node.block, path)

    def open_block(self, name: str, path: list[str] | None = None) -> BlockTab | None:
        """Show definition ``name`` in its tab (made on first use); ``path``: the definitions above it."""
        library = self.document.graph.blocks
        if name not in library:
            self.network_view.editor.message.emit(f"There is no block named {name}.")
            return None
        for tab in self.block_tabs:
            if tab.name == name:
                self.tabs.setCurrentWidget(tab.view)
                return tab
        defn = library[name]
        scene = GraphScene(defn.graph, self)
        editor = Editor(self.document, scene, self, block=name)
        editor.message.connect(self.message)
        view = GraphView(scene, editor)
        tab = BlockTab([*(path or []), name], defn, scene, editor, view)
        view.block_open_requested.connect(lambda nid, t=tab: self.open_instance(nid, t.path))
        scene.selectionChanged.connect(self._on_selection_changed)
        self.block_tabs.append(tab)
        if id(defn.graph) not in self._watched:  # an edit inside the definition: the network analyses again
            self._watched.add(id(defn.graph))
            defn.graph.changed.connect(self.document.schedule_analysis)
            defn.graph.changed.connect(lambda n=name: self._sync_ports(n))
        view.setInteractive(not self.locked)
        view.setAcceptDrops(not self.locked)
        self.tabs.addTab(view, name)
        self.tabs.tabBar().setVisible(True)
        self._analyse(tab)
        self.tabs.setCurrentWidget(view)
        QTimer.singleShot(0, view.fit_all)
        return tab

    def set_locked(self, locked: bool) -> None:
        """While training runs the network is read-only: so are the blocks' canvases and the Block menu."""
        self.locked = locked
        for tab in self.block_tabs:
            tab.view.setInteractive(not locked)
            tab.view.setAcceptDrops(not locked)
        for key in ("make_block", "ungroup"):
            self.actions_[key].setEnabled(not locked)

    def _sync_ports(self, name: str) -> None:
        """An Input or Output added to (or removed from) a definition: every instance takes its new port count."""
        library = self.document.graph.blocks
        defn = library.get(name)
        if defn is None:
            return
        for graph in [self.document.graph, *(d.graph for d in library.values())]:
            for node in refresh_instances(graph, name):
                graph.params_changed.emit(node.id)

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        tab = next((t for t in self.block_tabs if t.view is widget), None)
        if tab is None:
            return
        self.block_tabs.remove(tab)
        self.tabs.removeTab(index)
        tab.scene.set_graph(None)
        tab.view.deleteLater()
        self.tabs.tabBar().setVisible(bool(self.block_tabs))
        self._update_breadcrumb()

    def close_all(self) -> None:
        for tab in list(self.block_tabs):
            self.close_tab(self.tabs.indexOf(tab.view))
        self._watched.clear()

    # --- model -> tabs ---------------------------------------------------------------------------------------------
    def _analyse(self, tab: BlockTab) -> None:
        tab.editor.block_analysis = analyze(tab.definition.graph)
        tab.scene.set_analysis(tab.editor.block_analysis)
        if self.current() is tab:
            self.block_analysed.emit()

    def _on_analyzed(self, _analysis: object) -> None:
        library = self.document.graph.blocks
        for tab in list(self.block_tabs):
            if library.get(tab.name) is not tab.definition:  # its Make Block undone, or its definition replaced
                self.close_tab(self.tabs.indexOf(tab.view))
            else:
                self._analyse(tab)
        self.blocks_changed.emit(library)

    def _on_current_changed(self, _index: int) -> None:
        tab = self.current()
        self.editor_shown.emit(tab.editor if tab else self.network_view.editor)
        self._update_breadcrumb()
        self._on_selection_changed()

    def _on_selection_changed(self) -> None:
        tab = self.current()
        if tab is None:
            return  # the network's own selection is the window's business
        ids = tab.scene.selected_node_ids()
        self.selection_shown.emit(ids[0] if len(ids) == 1 else None, len(ids))

    def _update_breadcrumb(self) -> None:
        tab = self.current()
        if tab is None:
            self.breadcrumb.setVisible(False)
            return
        parts = ["<a href='net:'>Network</a>"]
        for i, name in enumerate(tab.path):
            last = i == len(tab.path) - 1
            parts.append(f"<b>{name}</b>" if last else f"<a href='block:{i}'>{name}</a>")
        users = sum(1 for n in self.document.graph.nodes if tab.name in (n.block, n.first_block))
        note = "&nbsp;&nbsp;<span style='color:#5f6368'>editing the definition: changes apply to every instance"
        note += f" ({users} in the network)</span>" if users else "</span>"
        self.breadcrumb.setText(" › ".join(parts) + note)
        self.breadcrumb.setVisible(True)

    def _on_link(self, link: str) -> None:
        tab = self.current()
        if link == "net:" or tab is None:
            self.show_network()
            return
        index = int(link.split(":", 1)[1])
        self.open_block(tab.path[index], tab.path[:index])

    def route_edit_actions(self, actions: dict[str, QAction]) -> None:
        """The window's Edit and View actions act on the canvas shown (a block's tab or the network), not always the
        network."""
        editor_slots = {
            "cut": lambda e: e.cut_selection(),
            "copy": lambda e: e.copy_selection(),
            "paste": lambda e: e.paste(),
            "duplicate": lambda e: e.duplicate_selection(),
            "delete": lambda e: e.delete_selection(),
            "select_all": lambda e: e.select_all(),
            "layout": lambda e: e.auto_layout(),
            "layout_tb": lambda e: e.auto_layout("tb"),
        }
        view_slots = {"zoom_in": GraphView.zoom_in, "zoom_out": GraphView.zoom_out, "fit": GraphView.fit_all}
        for key, slot in editor_slots.items():
            if key in actions:
                actions[key].triggered.disconnect()
                actions[key].triggered.connect(lambda _checked=False, s=slot: s(self.current_editor()))
        for key, view_slot in view_slots.items():
            if key in actions:
                actions[key].triggered.disconnect()
                actions[key].triggered.connect(lambda _checked=False, s=view_slot: s(self.current_view()))

    # --- the Block menu --------------------------------------------------------------------------------------------
    def _block_actions(self) -> dict[str, QAction]:
        """The Block menu's actions, in menu order; the window puts them in its menu bar and shortcuts."""
        actions: dict[str, QAction] = {}
        for key, text, slot, shortcut, tip in (
            ("make_block", "&Make Block", self.make_block, "Ctrl+B", "The selected layers become one block"),
            ("open_block", "&Open Block", self.open_selected, "Ctrl+Shift+O", "Edit the selected block's definition"),
            ("ungroup", "&Ungroup", self.ungroup, "Ctrl+Shift+B", "Put the selected block's layers in its place"),
            ("back", "&Back to the Network", self.show_network, "", "Show the network's canvas"),
        ):
            action = QAction(text, self)
            action.triggered.connect(slot)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip)
            actions[key] = action
        return actions

    def make_block(self) -> str | None:
        return self.current_editor().make_block()

    def ungroup(self) -> str | None:
        return self.current_editor().ungroup()

    def open_selected(self) -> BlockTab | None:
        tab = self.current()
        scene = tab.scene if tab else self.network_view.editor.scene
        ids = scene.selected_node_ids()
        if not ids:
            self.current_editor().message.emit("Select a block to open it.")
            return None
        return self.open_instance(ids[0], tab.path if tab else [])
