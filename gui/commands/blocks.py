"""Block edits as commands: ``core.model.block_edits`` does the work; these only record it for the undo stack."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from core.model.block_edits import Edit, expose_arg
from core.model.block_edits import make_block as core_make_block
from core.model.block_edits import ungroup as core_ungroup
from core.model.blocks import BlockDef
from core.model.graph import Graph
from core.model.names import name_problem
from core.model.node import Node
from gui.commands.base import Command


class EditCommand(Command):
    """A ``core.model.block_edits.Edit`` (make block, ungroup) as one undo step: the edit is computed once, when the
    command is built, so redo after undo replays the very same nodes and ids and undo restores the graph exactly."""

    def __init__(self, text: str, edit: Edit, parent: QUndoCommand | None = None) -> None:
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
    """Make the layers ``node_ids`` a block ``name`` (raises ``GraphError`` with the reason when refused; core checks
    before it changes anything, so a refusal leaves the graph and its library as they were)."""
    command = EditCommand(f"Make block {name}", core_make_block(graph, node_ids, name))
    instance = command.edit.instance
    wanted = name.lower()  # the instance reads as the block's name (self.block1), not "block11"
    if instance is None or instance.name == wanted or graph.by_name(wanted) is not None or name_problem(wanted):
        return command
    old = instance.name
    command.edit.do(lambda: graph.set_name(instance.id, wanted), lambda: graph.set_name(instance.id, old))
    return command


def ungroup(graph: Graph, instance_id: str) -> EditCommand:
    name = graph.node(instance_id).name
    return EditCommand(f"Ungroup {name}", core_ungroup(graph, instance_id))


class RepeatCommand(Command):
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


class ExposeArgCommand(Command):
    """Make a pinned parameter inside a definition one of its constructor arguments
    (``core.model.block_edits.expose_arg``); undo puts the definition's arguments and bindings back as they were."""

    def __init__(self, graph: Graph, block: str, node_id: str, param: str, arg: str | None = None) -> None:
        defn = graph.blocks[block]
        super().__init__(f"Expose {defn.graph.node(node_id).name}.{param} as an argument of {block}")
        self.graph, self.block, self.node_id, self.param, self.arg = graph, block, node_id, param, arg
        self.old_args = copy.deepcopy(defn.args)
        self.old_bindings = dict(defn.bindings)

    def redo(self) -> None:
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


class AddBlockCommand(Command):
    """Add an instance, together with the definitions it brings into the project's library (a built-in block and
    the ones it uses); undo takes both out. One command without children (see ``Command``)."""

    def __init__(self, graph: Graph, node: Node, definitions: dict[str, BlockDef]) -> None:
        super().__init__(f"Add block {node.block}")
        self.graph, self.node, self.definitions = graph, node, dict(definitions)

    def redo(self) -> None:
        self.graph.blocks.update(self.definitions)
        self.graph.add_node(self.node)

    def undo(self) -> None:
        self.graph.remove_node(self.node.id)
        for key in self.definitions:
            self.graph.blocks.pop(key, None)
