"""Edits of a graph's nodes, wires, parameters, names and positions, each one ``QUndoCommand``.

Compound edits are child commands: deleting a node first disconnects its wires as children, so undo puts the
wires back after the node. Removals remember their index so undo restores the exact order (and so the exact
project file). Callers check an edit is allowed (``graph.check_connect`` ...) before pushing it.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from core.model.graph import Graph
from core.model.node import Edge, Node
from gui.commands.base import Command, MacroCommand

if TYPE_CHECKING:
    from core.pretrained.head import HeadFit

Position = tuple[float, float]


class AddNodeCommand(Command):
    def __init__(self, graph: Graph, node: Node, parent: QUndoCommand | None = None, index: int | None = None) -> None:
        super().__init__(f"Add {node.name}", parent)
        self.graph, self.node, self.index = graph, node, index

    def redo(self) -> None:
        self.graph.add_node(self.node, self.index)
        super().redo()

    def undo(self) -> None:
        super().undo()
        self.graph.remove_node(self.node.id)


class ConnectCommand(Command):
    def __init__(self, graph: Graph, edge: Edge, parent: QUndoCommand | None = None) -> None:
        # inside a macro the nodes may be added by an earlier child, so they need not exist yet
        known = edge.src in graph and edge.dst in graph
        text = f"Connect {graph.node(edge.src).name} → {graph.node(edge.dst).name}" if known else "Connect"
        super().__init__(text, parent)
        self.graph, self.edge = graph, edge

    def redo(self) -> None:
        self.graph.connect(self.edge)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class DisconnectCommand(Command):
    def __init__(self, graph: Graph, edge: Edge, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Disconnect {graph.node(edge.src).name} → {graph.node(edge.dst).name}", parent)
        self.graph, self.edge = graph, edge
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(self.edge, self.index)


def add_node(graph: Graph, node: Node, connect_from: str | None = None) -> Command:
    """Add ``node``; with ``connect_from``, wire that node's output into it in the same undo step."""
    if connect_from is None:
        return AddNodeCommand(graph, node)
    macro = MacroCommand(f"Add {node.name}")
    AddNodeCommand(graph, node, macro)
    ConnectCommand(graph, Edge(connect_from, node.id), macro)
    return macro


def paste(graph: Graph, nodes: list[Node], edges: list[Edge]) -> MacroCommand:
    """Add pasted (or duplicated) ``nodes`` and the ``edges`` between them as one undo step."""
    macro = MacroCommand(f"Paste {len(nodes)} layer{'s' if len(nodes) > 1 else ''}")
    for node in nodes:
        AddNodeCommand(graph, node, macro)
    for edge in edges:
        ConnectCommand(graph, edge, macro)
    return macro


def occupant(graph: Graph, edge: Edge) -> Edge | None:
    """The wire already plugged into ``edge``'s input port, when it is another wire."""
    inputs = graph.inputs_of(edge.dst) if edge.dst in graph else []
    current = inputs[edge.dst_port] if 0 <= edge.dst_port < len(inputs) else None
    return current if current is not None and current != edge else None


def check_replacing(graph: Graph, edge: Edge) -> Edge | None:
    """Check that ``edge`` may be connected, taking the place of the wire in its input if there is one; return
    that wire (None: the input is free). Raises the plain reason (``GraphError``) when it is refused."""
    old = occupant(graph, edge)
    graph.check_connect(edge, replacing=old)
    return old


def connect(graph: Graph, edge: Edge) -> Command:
    """Connect ``edge``; into an occupied input it replaces the wire there, as one undo step whose undo puts
    the old wire back. Raises the plain reason (``GraphError``) when the wire is refused even so."""
    old = check_replacing(graph, edge)
    if old is None:
        return ConnectCommand(graph, edge)
    name = {n.id: n.name for n in graph.nodes}
    macro = MacroCommand(f"Replace wire {name[old.src]} → {name[edge.dst]} with {name[edge.src]} → {name[edge.dst]}")
    DisconnectCommand(graph, old, macro)
    ConnectCommand(graph, edge, macro)
    return macro


def reroute(graph: Graph, picked: Edge, edge: Edge | None, displaced: Edge | None = None) -> MacroCommand:
    """The wire ``picked`` up at its input end, dropped on ``edge``'s input (taking the place of ``displaced``,
    the wire there) or, with no ``edge``, in empty space to remove it: one undo step."""
    macro = MacroCommand("Re-route wire" if edge is not None else "Remove wire")
    DisconnectCommand(graph, picked, macro)
    if edge is not None:
        if displaced is not None:
            DisconnectCommand(graph, displaced, macro)
        ConnectCommand(graph, edge, macro)
    return macro


class RemoveNodeCommand(Command):
    """Remove a node whose wires are already disconnected (earlier children of the same macro); undo puts it back."""

    def __init__(self, graph: Graph, node_id: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Delete {graph.node(node_id).name}", parent)
        self.graph, self.node_id = graph, node_id
        self.node: Node | None = None
        self.index = 0

    def redo(self) -> None:
        super().redo()  # children: disconnect the wires first
        self.index = self.graph.index_of(self.node_id)
        self.node = self.graph.remove_node(self.node_id)

    def undo(self) -> None:
        assert self.node is not None
        self.graph.add_node(self.node, self.index)
        super().undo()


def delete_items(graph: Graph, node_ids: list[str], edges: list[Edge]) -> MacroCommand:
    """Delete nodes and wires as one step: every affected wire is disconnected first, then the nodes go."""
    doomed = set(node_ids)
    wires = list(dict.fromkeys([*edges, *(e for e in graph.edges if e.src in doomed or e.dst in doomed)]))
    what = graph.node(node_ids[0]).name if len(node_ids) == 1 and not edges else f"{len(node_ids) + len(edges)} items"
    if not node_ids and len(edges) == 1:
        what = "wire"
    macro = MacroCommand(f"Delete {what}")
    for edge in wires:
        DisconnectCommand(graph, edge, macro)
    for node_id in node_ids:
        RemoveNodeCommand(graph, node_id, macro)
    return macro


class SetParamsCommand(Command):
    """Replace a node's user-set parameters. Wires to inputs that disappear are disconnected as children.
    Consecutive edits of the same parameter of the same node merge into one step."""

    ID = 1001

    def __init__(
        self,
        graph: Graph,
        node_id: str,
        params: dict[str, Any],
        key: str = "",
        parent: QUndoCommand | None = None,
    ) -> None:
        node = graph.node(node_id)
        super().__init__(f"Change {node.name}.{key}" if key else f"Change {node.name}", parent)
        self.graph, self.node_id, self.key = graph, node_id, key
        self.old = copy.deepcopy(node.params)
        self.new = copy.deepcopy(params)
        count = node.spec.input_count(self.new) if node.spec else node.input_count()  # a block keeps its ports
        for edge in graph.edges_of(node_id):
            if edge.dst == node_id and edge.dst_port >= count:
                DisconnectCommand(graph, edge, self)

    def id(self) -> int:
        return self.ID if self.key and not self.children else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamsCommand) or other.children:
            return False
        if (other.node_id, other.key) != (self.node_id, self.key):
            return False
        if self.key not in self.new or other.key not in other.new:  # pinning or unpinning stays its own step
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        super().redo()
        self.graph.set_params(self.node_id, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.graph.set_params(self.node_id, copy.deepcopy(self.old))
        super().undo()


def set_param(graph: Graph, node_id: str, name: str, value: Any) -> SetParamsCommand:
    """A command setting one parameter (``None`` unpins an auto parameter); the rule is ``Graph.params_with``."""
    return SetParamsCommand(graph, node_id, graph.params_with(node_id, name, value), name)


class RenameCommand(Command):
    def __init__(self, graph: Graph, node_id: str, name: str, parent: QUndoCommand | None = None) -> None:
        old = graph.node(node_id).name
        super().__init__(f"Rename {old} to {name}", parent)
        self.graph, self.node_id, self.old, self.new = graph, node_id, old, name

    def redo(self) -> None:
        self.graph.set_name(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_name(self.node_id, self.old)


class MoveCommand(Command):
    """Move nodes from old to new positions: a whole mouse drag, or an auto-layout, is one command."""

    def __init__(
        self,
        graph: Graph,
        moves: dict[str, tuple[Position, Position]],
        text: str = "",
        parent: QUndoCommand | None = None,
    ) -> None:
        names = [graph.node(nid).name for nid in moves]
        label = text or (f"Move {names[0]}" if len(names) == 1 else f"Move {len(names)} layers")
        super().__init__(label, parent)
        self.graph, self.moves = graph, dict(moves)

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.graph.set_pos(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.graph.set_pos(node_id, old)


class SetTrainableCommand(Command):
    """Freeze or unfreeze nodes (``changes``: node id -> trainable) as one step: a Trainable box, or "Freeze
    everything before this" over a whole backbone."""

    def __init__(self, graph: Graph, changes: dict[str, bool], text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.graph = graph
        self.changes = {nid: (graph.node(nid).trainable, bool(on)) for nid, on in changes.items()}

    def redo(self) -> None:
        for node_id, (_, new) in self.changes.items():
            self.graph.set_trainable(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.changes.items():
            self.graph.set_trainable(node_id, old)


def new_head(graph: Graph, fit: HeadFit) -> MacroCommand:
    """A new head for the dataset's classes (``core.pretrained.head.HeadFit``) as one step: the last Linear's
    out_features (in the network, in the block that ends it, or the block argument bound to it) and, when the head
    was frozen, Trainable back on."""
    macro = MacroCommand(f"New head: {fit.name} out_features {fit.old} → {fit.new}")
    if fit.arg is not None and fit.instance_id is not None:  # head_fit sets both or neither
        SetParamsCommand(graph, fit.instance_id, graph.params_with(fit.instance_id, fit.arg, fit.new), fit.arg, macro)
    else:
        where = graph if fit.block is None else graph.blocks[fit.block].graph
        params = where.params_with(fit.node_id, "out_features", fit.new)
        SetParamsCommand(where, fit.node_id, params, "out_features", macro)
    if fit.thaw is not None:
        SetTrainableCommand(graph, {fit.thaw: True}, f"Unfreeze {graph.node(fit.thaw).name}", macro)
    return macro
