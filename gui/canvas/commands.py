"""Every user edit as one ``QUndoCommand``; ``redo``/``undo`` call only the model (``core.model.graph.Graph``).

Compound edits are child commands: removing a node first disconnects its wires as children, so undo puts the
wires back after the node. Removals remember their index so undo restores the exact order (and so the exact
project file). Callers check an edit is allowed (``graph.check_connect`` ...) before pushing it.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from core.code.names import name_problem
from core.model.graph import Edge, Graph, Node

Position = tuple[float, float]


class _Command(QUndoCommand):
    """Base with children kept in Python: a QUndoCommand parent would own (and delete) a child that Python
    owns too, which crashes when the stack is destroyed. ``redo`` runs the children in order, ``undo`` in
    reverse, as QUndoCommand does."""

    def __init__(self, text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(text)
        self.children: list[QUndoCommand] = []
        if isinstance(parent, _Command):
            parent.children.append(self)
        elif parent is not None:
            raise TypeError("a parent command must be one of ours")

    def redo(self) -> None:
        for child in self.children:
            child.redo()

    def undo(self) -> None:
        for child in reversed(self.children):
            child.undo()


class MacroCommand(_Command):
    """A named group of child commands (paste, delete selection, add-and-connect)."""


class AddNodeCommand(_Command):
    def __init__(self, graph: Graph, node: Node, parent: QUndoCommand | None = None, index: int | None = None) -> None:
        super().__init__(f"Add {node.name}", parent)
        self.graph, self.node, self.index = graph, node, index

    def redo(self) -> None:
        self.graph.add_node(self.node, self.index)
        super().redo()

    def undo(self) -> None:
        super().undo()
        self.graph.remove_node(self.node.id)


class ConnectCommand(_Command):
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


class DisconnectCommand(_Command):
    def __init__(self, graph: Graph, edge: Edge, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Disconnect {graph.node(edge.src).name} → {graph.node(edge.dst).name}", parent)
        self.graph, self.edge = graph, edge
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(self.edge, self.index)


def occupant(graph: Graph, edge: Edge) -> Edge | None:
    """The wire already plugged into ``edge``'s input port, when it is another wire."""
    inputs = graph.inputs_of(edge.dst) if edge.dst in graph else []
    current = inputs[edge.dst_port] if 0 <= edge.dst_port < len(inputs) else None
    return current if current is not None and current != edge else None


def connect(graph: Graph, edge: Edge) -> _Command:
    """Connect ``edge``; into an occupied input it replaces the wire there, as one undo step whose undo puts
    the old wire back. Raises the plain reason (``GraphError``) when the wire is refused even so."""
    old = occupant(graph, edge)
    if old is None:
        graph.check_connect(edge)
        return ConnectCommand(graph, edge)
    trial = graph.copy()
    trial.disconnect(old)
    trial.check_connect(edge)
    name = {n.id: n.name for n in graph.nodes}
    macro = MacroCommand(f"Replace wire {name[old.src]} → {name[edge.dst]} with {name[edge.src]} → {name[edge.dst]}")
    DisconnectCommand(graph, old, macro)
    ConnectCommand(graph, edge, macro)
    return macro


class RemoveNodeCommand(_Command):
    """Disconnect the node's wires (child commands, see ``remove_node``), then remove it; undo in reverse."""

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


def remove_node(graph: Graph, node_id: str, parent: QUndoCommand | None = None) -> RemoveNodeCommand:
    """A RemoveNodeCommand whose children disconnect the node's wires first."""
    command = RemoveNodeCommand(graph, node_id, parent)
    for edge in graph.edges_of(node_id):
        DisconnectCommand(graph, edge, command)
    return command


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


class SetParamsCommand(_Command):
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


class RenameCommand(_Command):
    def __init__(self, graph: Graph, node_id: str, name: str, parent: QUndoCommand | None = None) -> None:
        old = graph.node(node_id).name
        super().__init__(f"Rename {old} to {name}", parent)
        self.graph, self.node_id, self.old, self.new = graph, node_id, old, name

    def redo(self) -> None:
        self.graph.set_name(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_name(self.node_id, self.old)


class MoveCommand(_Command):
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


# --- blocks (core.model.blocks does the work; these only record it for the undo stack) --------------------------------
class EditCommand(_Command):
    """A ``core.model.blocks.Edit`` (make block, ungroup) as one undo step: the edit is computed once, when the
    command is built, so redo after undo replays the very same nodes and ids and undo restores the graph exactly."""

    def __init__(self, text: str, edit: Any, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.edit = edit
        self._done = True  # core applied it while computing it

    def redo(self) -> None:
        if not self._done:
            self.edit.apply()
        self._done = True

    def undo(self) -> None:
        self.edit.revert()
        self._done = False


def make_block(graph: Graph, node_ids: list[str], name: str) -> EditCommand:
    """Make the layers ``node_ids`` a block ``name`` (raises ``GraphError`` with the reason when refused)."""
    from core.model.blocks import make_block as core_make_block

    _trial(graph, lambda g: core_make_block(g, node_ids, name))
    command = EditCommand(f"Make block {name}", core_make_block(graph, node_ids, name))
    instance = command.edit.instance
    wanted = name.lower()  # the instance reads as the block's name (self.block1), not "block11"
    if instance is None or instance.name == wanted or graph.by_name(wanted) is not None or name_problem(wanted):
        return command
    old = instance.name
    command.edit.do(lambda: graph.set_name(instance.id, wanted), lambda: graph.set_name(instance.id, old))
    return command


def _trial(graph: Graph, edit: Any) -> None:
    """Run a core edit on a copy first: core may refuse half-way (a selection whose block would make a cycle),
    and a refusal must leave the real graph, and the library it shares with the copy, as they were."""
    library = dict(graph.blocks)
    try:
        edit(graph.copy()).revert()
    finally:
        graph.blocks.clear()
        graph.blocks.update(library)


def ungroup(graph: Graph, instance_id: str) -> EditCommand:
    from core.model.blocks import ungroup as core_ungroup

    name = graph.node(instance_id).name
    _trial(graph, lambda g: core_ungroup(g, instance_id))
    return EditCommand(f"Ungroup {name}", core_ungroup(graph, instance_id))


class RepeatCommand(_Command):
    """An instance's copy count (and what its first copy does differently), as one step."""

    def __init__(
        self,
        graph: Graph,
        node_id: str,
        repeat: int,
        first_block: str | None = None,
        first_params: dict[str, Any] | None = None,
        parent: QUndoCommand | None = None,
    ) -> None:
        node = graph.node(node_id)
        super().__init__(f"Repeat {node.name} ×{repeat}", parent)
        self.graph, self.node_id = graph, node_id
        self.old = (node.repeat, node.first_block, copy.deepcopy(node.first_params))
        self.new = (repeat, first_block, copy.deepcopy(first_params or {}))

    def redo(self) -> None:
        self.graph.set_repeat(self.node_id, self.new[0], self.new[1], copy.deepcopy(self.new[2]))

    def undo(self) -> None:
        self.graph.set_repeat(self.node_id, self.old[0], self.old[1], copy.deepcopy(self.old[2]))


class ExposeArgCommand(_Command):
    """Make a pinned parameter inside a definition one of its constructor arguments (``core.model.blocks.expose_arg``);
    undo puts the definition's arguments and bindings back as they were."""

    def __init__(self, graph: Graph, block: str, node_id: str, param: str, arg: str | None = None) -> None:
        defn = graph.blocks[block]
        super().__init__(f"Expose {defn.graph.node(node_id).name}.{param} as an argument of {block}")
        self.graph, self.block, self.node_id, self.param, self.arg = graph, block, node_id, param, arg
        self.old_args = copy.deepcopy(defn.args)
        self.old_bindings = dict(defn.bindings)

    def redo(self) -> None:
        from core.model.blocks import expose_arg

        defn = self.graph.blocks[self.block]
        expose_arg(defn, self.node_id, self.param, self.arg)
        defn.graph.changed.emit()
        self.graph.changed.emit()  # the network's code and shapes follow

    def undo(self) -> None:
        defn = self.graph.blocks[self.block]
        defn.args = copy.deepcopy(self.old_args)
        defn.bindings = dict(self.old_bindings)
        defn.graph.changed.emit()
        self.graph.changed.emit()


class AddBlockCommand(_Command):
    """Add an instance, together with the definitions it brings into the project's library (a built-in block and
    the ones it uses); undo takes both out. One command without children (see ``_Command``)."""

    def __init__(self, graph: Graph, node: Node, definitions: dict[str, Any]) -> None:
        super().__init__(f"Add block {node.block}")
        self.graph, self.node, self.definitions = graph, node, dict(definitions)

    def redo(self) -> None:
        self.graph.blocks.update(self.definitions)
        self.graph.add_node(self.node)

    def undo(self) -> None:
        self.graph.remove_node(self.node.id)
        for key in self.definitions:
            self.graph.blocks.pop(key, None)
