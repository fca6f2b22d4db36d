"""The editor's API: thin wrappers that check an edit, build its command and push it on the undo stack.

Widgets (canvas modes, palette, inspector, menus) call these; they never touch the model themselves. Each
wrapper returns a plain-language reason when an edit is refused (also sent through ``message``). Copy, cut, paste
and duplicate are in ``gui.canvas.clipboard``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from core.errors import TorchCanvasError
from core.model.analysis import Analysis
from core.model.block_edits import check_expose_arg
from core.model.blocks import new_instance, uses
from core.model.builtin_blocks import BUILTINS, add_builtin
from core.model.catalog import get_spec
from core.model.graph import Graph
from core.model.layout import layered_layout
from core.model.node import Edge, Node
from core.pretrained.head import head_fit
from gui.canvas.clipboard import EditorClipboard
from gui.canvas.host import CanvasDocument
from gui.canvas.scene import GraphScene
from gui.commands import blocks as block_commands
from gui.commands import graph as commands

if TYPE_CHECKING:
    from core.model.blocks import Library
    from core.pretrained.head import HeadFit

COLUMN_GAP = 310.0  # room between two layers for a wire label such as [N, 128, 112, 112]
ROW_GAP = 150.0


class Editor(EditorClipboard, QObject):
    message = Signal(str)  # a refused edit or a hint, for the status bar
    placed = Signal(list)  # node ids an edit just added: the view scrolls them into sight
    laid_out = Signal()  # after an auto-layout: the view fits the whole network (it may have moved out of sight)

    def __init__(
        self, document: CanvasDocument, scene: GraphScene, parent: QObject | None = None, block: str | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.scene = scene
        self.block = block  # the definition this editor edits (a block's canvas tab), or None: the network
        # a block tab's analysis of its definition (set by gui.canvas.canvas_tabs); None: the document's
        self.block_analysis: Analysis | None = None

    @property
    def analysis(self) -> Analysis:
        """The analysis of the graph this editor edits (the inspector reads shapes from it)."""
        if self.block is None or self.block_analysis is None:
            return self.document.analysis
        return self.block_analysis

    @property
    def graph(self) -> Graph:
        project_graph = self.document.project.graph
        if self.block is None:
            return project_graph
        return project_graph.blocks[self.block].graph

    def push(self, command: QUndoCommand) -> None:
        self.document.undo_stack.push(command)

    def _refuse(self, reason: str) -> str:
        self.message.emit(reason)
        return reason

    # --- nodes ---------------------------------------------------------------------------------------------
    def add_layer(self, layer_id: str, pos: tuple[float, float], connect_from: str | None = None) -> Node:
        """Add a layer at ``pos``; with ``connect_from``, wire that node's output into it in the same step."""
        if self.block is None:
            node = self.document.project.new_node(layer_id, pos)  # a new Input fits the project's dataset
        else:
            node = self.graph.create_node(layer_id, pos)
        spec = get_spec(layer_id)
        wired = connect_from if spec.input_count(node.params) else None
        self.push(commands.add_node(self.graph, node, wired))
        self.scene.select_nodes([node.id])
        self.placed.emit([node.id])
        return node

    def add_after_selection(self, layer_id: str) -> Node:
        """Double-click in the palette: add next to the selected node and wire it in, or in free space."""
        selected = self.scene.selected_node_ids()
        if selected:
            anchor = self.graph.node(selected[-1])
            spec = anchor.spec
            if spec is not None and spec.outputs:
                x, y = anchor.pos[0] + COLUMN_GAP, anchor.pos[1]
                while any(abs(n.pos[0] - x) < 100 and abs(n.pos[1] - y) < 60 for n in self.graph.nodes):
                    y += ROW_GAP
                return self.add_layer(layer_id, (x, y), connect_from=anchor.id)
            return self.add_layer(layer_id, (anchor.pos[0], anchor.pos[1] + ROW_GAP))
        return self.add_layer(layer_id, self.free_spot())

    def free_spot(self) -> tuple[float, float]:
        nodes = self.graph.nodes
        if not nodes:
            return (0.0, 0.0)
        return (max(n.pos[0] for n in nodes) + COLUMN_GAP, min(n.pos[1] for n in nodes))

    def delete(self, node_ids: list[str], edges: list[Edge] | None = None) -> None:
        edges = [e for e in (edges or []) if e.src not in node_ids and e.dst not in node_ids]
        if not node_ids and not edges:
            return
        self.push(commands.delete_items(self.graph, node_ids, edges))

    def delete_selection(self) -> None:
        self.delete(self.scene.selected_node_ids(), self.scene.selected_edges())

    # --- wires ---------------------------------------------------------------------------------------------
    def check_connect(self, edge: Edge) -> str | None:
        """Why ``edge`` is refused, or None."""
        try:
            self.graph.check_connect(edge)
        except TorchCanvasError as exc:
            return str(exc)
        return None

    # connect/disconnect shadow QObject's (signal wiring), which nothing calls on the editor: the names are its API.
    def connect(self, edge: Edge) -> str | None:  # type: ignore[override]
        """Wire ``edge`` in; into an occupied input it replaces the wire there (one undo step)."""
        try:
            command = commands.connect(self.graph, edge)
        except TorchCanvasError as exc:
            return self._refuse(str(exc))
        self.push(command)
        return None

    def disconnect(self, edge: Edge) -> None:  # type: ignore[override]
        self.push(commands.DisconnectCommand(self.graph, edge))

    # --- parameters and names --------------------------------------------------------------------------------
    def set_param(self, node_id: str, name: str, value: Any) -> str | None:
        node = self.graph.node(node_id)
        try:
            command = commands.set_param(self.graph, node_id, name, value)
        except TorchCanvasError as exc:
            return self._refuse(f"{node.name}: {exc}")
        if command.new != node.params:
            self.push(command)
        return None

    def rename(self, node_id: str, name: str) -> str | None:
        node = self.graph.node(node_id)
        if name == node.name:
            return None
        try:
            self.graph.check_rename(node_id, name)
        except TorchCanvasError as exc:
            return self._refuse(str(exc))
        self.push(commands.RenameCommand(self.graph, node_id, name))
        return None

    # --- freezing ------------------------------------------------------------------------------------------------
    def set_trainable(self, node_ids: list[str], trainable: bool) -> str | None:
        """Freeze (``trainable`` False) or unfreeze layers and blocks as one undo step."""
        changes = {
            nid: trainable for nid in node_ids if nid in self.graph and self.graph.node(nid).trainable != trainable
        }
        if not changes:
            return None
        names = [self.graph.node(nid).name for nid in changes]
        what = names[0] if len(names) == 1 else f"{len(names)} layers"
        self.push(commands.SetTrainableCommand(self.graph, changes, f"{'Unfreeze' if trainable else 'Freeze'} {what}"))
        return None

    def frozen_before(self, node_id: str) -> list[str]:
        """The layers and blocks with parameters that feed ``node_id``, in network order: a backbone before its
        head. Layers without parameters (ReLU, pooling) have nothing to freeze and are left as they are."""
        upstream = self.graph.upstream(node_id)
        order = [nid for nid in self.graph.topological_order() if nid in upstream]
        infos = self.analysis.nodes if self.analysis is not None else {}
        return [
            nid
            for nid in order
            if self.graph.node(nid).block is not None or (nid in infos and infos[nid].param_count > 0)
        ]

    def freeze_before(self, node_id: str) -> str | None:
        """The context menu's "Freeze everything before this": one undo step (Keras' ``layer.trainable = False``
        for every layer of the backbone)."""
        doomed = [nid for nid in self.frozen_before(node_id) if self.graph.node(nid).trainable]
        name = self.graph.node(node_id).name
        if not doomed:
            return self._refuse(
                f"Nothing to freeze before {name}: no layer with parameters feeds it, or all are frozen."
            )
        text = f"Freeze {len(doomed)} layer{'s' if len(doomed) > 1 else ''} before {name}"
        self.push(commands.SetTrainableCommand(self.graph, dict.fromkeys(doomed, False), text))
        return None

    def head_fit(self) -> HeadFit | None:
        """The new head the project's dataset asks for (``core.pretrained.head.HeadFit``), or None: it fits, or
        this editor shows a block's tab."""
        if self.block is not None:
            return None
        project = self.document.project
        return head_fit(project.graph, self.document.analysis, project.training)

    def fit_head(self) -> str | None:
        """Give the classifier a new head for the dataset's classes in one undo step; returns the note saying what
        changed (also sent to the status bar), or None when nothing needs to change."""
        fit = self.head_fit()
        if fit is None:
            return None
        self.push(commands.new_head(self.graph, fit))
        self.message.emit(fit.note())
        return fit.note()

    # --- blocks ------------------------------------------------------------------------------------------------
    def free_block_name(self, stem: str = "Block") -> str:
        taken = set(self.graph.blocks)
        return next(f"{stem}{i}" for i in range(1, 10_000) if f"{stem}{i}" not in taken)

    def make_block(self, node_ids: list[str] | None = None, name: str | None = None) -> str | None:
        """The selected layers become a block definition and one instance of it (one undo step)."""
        ids = self.scene.selected_node_ids() if node_ids is None else node_ids
        name = name or self.free_block_name()
        try:
            command = block_commands.make_block(self.graph, ids, name)
        except TorchCanvasError as exc:
            return self._refuse(f"Cannot make a block: {exc}")
        self.document.undo_stack.push(command)  # already applied by core: redo only marks it done
        if command.edit.instance is not None:
            self.scene.select_nodes([command.edit.instance.id])
        return None

    def ungroup(self, node_id: str | None = None) -> str | None:
        ids = [node_id] if node_id else self.scene.selected_node_ids()
        ids = [i for i in ids if i in self.graph and self.graph.node(i).block is not None]
        if not ids:
            return self._refuse("Select a block to ungroup.")
        try:
            command = block_commands.ungroup(self.graph, ids[0])
        except TorchCanvasError as exc:
            return self._refuse(f"Cannot ungroup: {exc}")
        self.push(command)
        self.scene.select_nodes([n.id for n in command.edit.added])
        return None

    def set_repeat(self, node_id: str, repeat: int) -> str | None:
        node = self.graph.node(node_id)
        first = node.first_block if repeat > 1 else None
        try:
            self.graph.check_repeat(node_id, repeat, first)
        except TorchCanvasError as exc:
            return self._refuse(str(exc))
        if repeat == node.repeat:
            return None
        first_params = node.first_params if repeat > 1 else {}
        self.push(block_commands.RepeatCommand(self.graph, node_id, repeat, first, first_params))
        return None

    def expose_arg(self, node_id: str, param: str) -> str | None:
        """Inside a block's tab: a pinned parameter becomes an argument of the block (its value the default)."""
        if self.block is None:
            return self._refuse("Open a block (double-click it) to make one of its parameters an argument.")
        try:
            check_expose_arg(self.graph.blocks[self.block], node_id, param)
        except TorchCanvasError as exc:
            return self._refuse(str(exc))
        self.push(block_commands.ExposeArgCommand(self.document.project.graph, self.block, node_id, param))
        return None

    def add_block(self, name: str, pos: tuple[float, float]) -> Node | None:
        """An instance of the project's block ``name``, or of a built-in one (its definition joins the project in
        the same undo step)."""
        library = self.graph.blocks
        if name not in library and name not in BUILTINS:
            self._refuse(f"There is no block named {name}.")
            return None
        trial = self.graph.copy()  # its own library: the built-in is tried there, the project's stays as it is
        if name not in library and add_builtin(trial.blocks, name) is None:
            self._refuse(f"The built-in block {name} needs layers this version lacks.")
            return None
        if self.block is not None and (name == self.block or name in _users_of(trial.blocks, self.block)):
            self._refuse(f"Block {self.block} cannot contain {name}: a block cannot contain itself.")
            return None
        node = new_instance(trial, trial.blocks[name], pos)  # a free name, as in the real graph
        node.id = self.graph.new_id()  # an id this graph never handed out (the undo stack may hold a removed one)
        # the definitions the built-in brings, their graphs sharing the project's library once the command adds them
        added = {key: defn.copy(library) for key, defn in trial.blocks.items() if key not in library}
        self.push(block_commands.AddBlockCommand(self.graph, node, added))
        self.scene.select_nodes([node.id])
        self.placed.emit([node.id])
        return node

    # --- positions -------------------------------------------------------------------------------------------
    def move(self, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]], text: str = "") -> None:
        moves = {nid: (old, new) for nid, (old, new) in moves.items() if old != new and nid in self.graph}
        if moves:
            self.push(commands.MoveCommand(self.graph, moves, text))

    def auto_layout(self, direction: str = "lr") -> None:
        gap = ROW_GAP if direction == "lr" else 220.0
        positions = layered_layout(self.graph, direction, COLUMN_GAP, gap, aspect=view_aspect(self.scene))
        self.move({nid: (self.graph.node(nid).pos, pos) for nid, pos in positions.items()}, "Auto-layout")
        self.laid_out.emit()

    # --- selection -----------------------------------------------------------------------------------------------
    def select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))


def _users_of(library: Library, name: str) -> set[str]:
    """Definitions that contain ``name`` (directly or deeper): adding one of them inside ``name`` makes a loop."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for key, defn in library.items():
            if key not in found and (name in uses(defn) or uses(defn) & found):
                found.add(key)
                changed = True
    return found


DEFAULT_ASPECT = 2.2  # the canvas of a 1600x1000 window, before it is first shown


def view_aspect(scene: GraphScene | None) -> float:
    """Width / height of the canvas showing ``scene``, so auto-layout can wrap long networks to fit it."""
    views = scene.views() if scene is not None else []
    if views:
        size = views[0].viewport().size()
        if size.width() > 50 and size.height() > 50:
            return size.width() / size.height()
    return DEFAULT_ASPECT
