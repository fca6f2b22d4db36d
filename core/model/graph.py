"""The network as a graph of nodes (layers) and edges (wires; both in ``core.model.node``): the single source of truth.

The model owns structure and rules; it announces every change through ``Signal``s so a view (the Qt scene)
can mirror it. It never knows a view exists. Positions are plain ``(x, y)`` tuples.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import networkx as nx

from core.errors import (
    CycleError,
    GraphError,
    InvalidNameError,
    ParameterError,
    PortAlreadyConnectedError,
    PortError,
    SelfConnectionError,
)
from core.model.catalog import get_spec
from core.model.names import check_name, name_problem
from core.model.node import Edge, Node, validate_params
from core.model.param_rules import check_repeat, params_with
from core.signals import Signal

if TYPE_CHECKING:  # blocks.py builds on Graph: the definitions' type only, for the checker
    from core.model.blocks import BlockDef


class Graph:
    """Nodes and edges, with change signals and the connection rules.

    The store: ``_nodes`` (insertion order: stable code), ``_edges`` (wire order: the file's), ``_wires`` (each
    node's wires, in wire order: the index every per-node query reads) and a networkx MultiDiGraph (reachability,
    topological order). Only ``_store_node``/``_drop_node`` and ``_store_edge``/``_drop_edge`` write them, so they
    stay in step."""

    def __init__(self) -> None:
        self._g: nx.MultiDiGraph = nx.MultiDiGraph()
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self._wires: dict[str, list[Edge]] = {}
        self._ids = itertools.count(1)
        # The project's block definitions (core.model.blocks.Library), shared with every definition's own graph.
        self.blocks: dict[str, BlockDef] = {}
        self.node_added = Signal()  # (node)
        self.node_removed = Signal()  # (node)
        self.edge_added = Signal()  # (edge)
        self.edge_removed = Signal()  # (edge)
        # One signal per kind of node change, so a view connects what it shows to what changes it.
        self.params_changed = Signal()  # (node_id) parameters, or a block's repeat/first copy/port counts
        self.name_changed = Signal()  # (node_id)
        self.pos_changed = Signal()  # (node_id) moves only; no ``changed`` (shapes and code do not depend on it)
        self.changed = Signal()  # () after any change; views recompute shapes and code on it

    # --- queries ---------------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"There is no node with id {node_id!r}.", node_id) from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def by_name(self, name: str) -> Node | None:
        return next((n for n in self._nodes.values() if n.name == name), None)

    def nodes_of_type(self, layer_id: str) -> list[Node]:
        return [n for n in self._nodes.values() if n.type == layer_id]

    def edges_of(self, node_id: str) -> list[Edge]:
        """The wires into and out of the node, in wire order."""
        return list(self._wires.get(node_id, ()))

    def inputs_of(self, node_id: str) -> list[Edge | None]:
        """The wire into each input port, in port order (None where unconnected)."""
        node = self.node(node_id)
        ports: list[Edge | None] = [None] * node.input_count()
        for edge in self._wires[node_id]:
            if edge.dst == node_id and 0 <= edge.dst_port < len(ports):
                ports[edge.dst_port] = edge
        return ports

    def consumers(self, node_id: str) -> list[Edge]:
        return [e for e in self._wires.get(node_id, ()) if e.src == node_id]

    def upstream(self, node_id: str) -> set[str]:
        return set(nx.ancestors(self._g, node_id))

    def downstream(self, node_id: str) -> set[str]:
        return set(nx.descendants(self._g, node_id))

    def degree(self, node_id: str) -> int:
        """How many wires touch the node (in and out)."""
        return int(self._g.degree(node_id))

    def out_degree(self, node_id: str) -> int:
        """How many wires leave the node."""
        return int(self._g.out_degree(node_id))

    def find_cycle(self) -> list[str]:
        """The node ids around one cycle, in wire order; empty when the wires form none."""
        if nx.is_directed_acyclic_graph(self._g):
            return []
        return [edge[0] for edge in nx.find_cycle(self._g)]

    def topological_order(self) -> list[str]:
        """Node ids so that every node comes after its inputs; ties follow insertion order (stable code)."""
        order = {nid: i for i, nid in enumerate(self._nodes)}
        try:
            return list(nx.lexicographical_topological_sort(self._g, key=order.__getitem__))
        except nx.NetworkXUnfeasible:
            raise CycleError("The network contains a cycle: data cannot flow in a circle.") from None

    def index_of(self, node_id: str) -> int:
        return list(self._nodes).index(node_id)

    # --- ids and names ---------------------------------------------------------------------------------
    def new_id(self) -> str:
        while True:
            candidate = f"n{next(self._ids)}"
            if candidate not in self._nodes:
                return candidate

    def unique_name(self, prefix: str) -> str:
        """prefix1, prefix2, ... : the first free one (a fresh graph gives conv1, conv2, fc1 ...)."""
        taken = {n.name for n in self._nodes.values()}
        for i in itertools.count(1):
            candidate = f"{prefix}{i}"
            if candidate not in taken:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def create_node(
        self,
        layer_id: str,
        pos: tuple[float, float] = (0.0, 0.0),
        name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Node:
        """A new node (not yet added) with a fresh id, a free name and the layer's defaults."""
        spec = get_spec(layer_id)
        values = spec.defaults()
        values.update(params or {})
        if name is None:  # the first Input is "x" and the first Output "output"; later ones are numbered
            single = spec.id in ("Input", "Output") and not self.nodes_of_type(spec.id)
            name = spec.name_prefix if single else self.unique_name(spec.name_prefix)
        return Node(self.new_id(), layer_id, name, validate_params(spec, values, name), (float(pos[0]), float(pos[1])))

    # --- edits -----------------------------------------------------------------------------------------
    def add_node(self, node: Node, index: int | None = None) -> Node:
        if node.id in self._nodes:
            raise GraphError(f"A node with id {node.id!r} already exists.", node.id)
        check_name(node.name, node.id)
        if self.by_name(node.name) is not None:
            raise GraphError(f"The name '{node.name}' is already used by another node.", node.id)
        if node.spec is not None:
            node.params = validate_params(node.spec, node.params, node.name)
        self._store_node(node, index)
        self.node_added.emit(node)
        self.changed.emit()
        return node

    def remove_node(self, node_id: str) -> Node:
        """Remove a node that has no wires (remove its edges first; undo commands do that as children)."""
        node = self.node(node_id)
        if self.edges_of(node_id):
            raise GraphError(f"{node.name} still has wires; disconnect them first.", node_id)
        self._drop_node(node_id)
        self.node_removed.emit(node)
        self.changed.emit()
        return node

    def check_connect(self, edge: Edge, replacing: Edge | None = None) -> None:
        """Raise the plain-language reason why ``edge`` cannot be added, or return; with ``replacing``, as if that
        wire (the one in ``edge``'s input) were taken out first (removing a wire into ``edge.dst`` changes nothing
        downstream of it, so only the occupied-input rule looks at it)."""
        src, dst = self.node(edge.src), self.node(edge.dst)
        if edge.src == edge.dst:
            raise SelfConnectionError(f"{src.name} cannot be connected to itself.", edge.dst)
        if not 0 <= edge.src_port < src.output_count():
            raise PortError(f"{src.name} has no output to connect from.", edge.src)
        if not 0 <= edge.dst_port < dst.input_count():
            raise PortError(f"{dst.name} has no input {edge.dst_port + 1}.", edge.dst)
        if edge in self._wires[edge.src]:
            raise PortAlreadyConnectedError(f"{src.name} is already connected to {dst.name}.", edge.dst)
        if edge.src in self.downstream(edge.dst):
            raise CycleError(
                f"Connecting {src.name} to {dst.name} would make a cycle: {dst.name} already feeds {src.name}.",
                edge.dst,
            )
        if self.inputs_of(edge.dst)[edge.dst_port] not in (None, replacing):
            which = f"input {edge.dst_port + 1} of {dst.name}" if dst.input_count() > 1 else f"{dst.name}'s input"
            raise PortAlreadyConnectedError(f"{which} is already connected; remove that wire first.", edge.dst)

    def connect(self, edge: Edge, index: int | None = None) -> Edge:
        self.check_connect(edge)
        self._store_edge(edge, index)
        self.edge_added.emit(edge)
        self.changed.emit()
        return edge

    def disconnect(self, edge: Edge) -> int:
        """Remove a wire; returns its index so undo can put it back in place."""
        if edge not in self._wires.get(edge.dst, ()):
            raise GraphError("That wire does not exist.", edge.dst)
        index = self._drop_edge(edge)
        self.edge_removed.emit(edge)
        self.changed.emit()
        return index

    # Every edit has a ``check_*`` that raises the plain reason it would be refused, or returns what it would set;
    # the edit calls it before changing anything, so an edit happens whole or not at all, and the editor asks the
    # same check (one rule, one message).
    # --- the store: the only writers of _nodes, _edges, _wires and _g --------------------------------------------
    def _store_node(self, node: Node, index: int | None) -> None:
        if index is None or index >= len(self._nodes):
            self._nodes[node.id] = node
        else:
            items = list(self._nodes.items())
            items.insert(max(0, index), (node.id, node))
            self._nodes = dict(items)
        self._wires[node.id] = []
        self._g.add_node(node.id)

    def _drop_node(self, node_id: str) -> None:
        del self._nodes[node_id]
        del self._wires[node_id]
        self._g.remove_node(node_id)

    def _store_edge(self, edge: Edge, index: int | None) -> None:
        if index is None or index >= len(self._edges):
            self._edges.append(edge)
            self._wires[edge.src].append(edge)
            self._wires[edge.dst].append(edge)
        else:  # put back in place (undo): the two nodes' lists follow the wire order again
            self._edges.insert(max(0, index), edge)
            for node_id in (edge.src, edge.dst):
                self._wires[node_id] = [e for e in self._edges if node_id in (e.src, e.dst)]
        self._g.add_edge(edge.src, edge.dst, key=edge)

    def _drop_edge(self, edge: Edge) -> int:
        index = self._edges.index(edge)
        del self._edges[index]
        self._wires[edge.src].remove(edge)
        self._wires[edge.dst].remove(edge)
        self._g.remove_edge(edge.src, edge.dst, key=edge)
        return index

    def check_set_params(self, node_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters ``set_params`` would give the node (validated), or the reason it refuses them."""
        node = self.node(node_id)
        if node.block is not None:
            from core.model.blocks import validate_args  # blocks build on this module

            defn = self.blocks.get(node.block)
            return validate_args(defn, params, node.name) if defn is not None else dict(params)
        spec = get_spec(node.type)
        clean = validate_params(spec, params, node.name)
        new_count = spec.input_count(clean)
        if any(e.dst_port >= new_count for e in self._wires[node_id] if e.dst == node_id):
            raise GraphError(f"{node.name}: remove the wires to the inputs that would disappear first.", node_id)
        return clean

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        """Replace the user-set parameters of a node (validated). Wires to ports that vanish must go first."""
        clean = self.check_set_params(node_id, params)
        self.node(node_id).params = clean
        self.params_changed.emit(node_id)
        self.changed.emit()

    def check_repeat(self, node_id: str, repeat: int, first_block: str | None = None) -> None:
        """Raise the reason ``set_repeat`` would refuse this copy count (and first copy), or return."""
        check_repeat(self.node(node_id), self.blocks, repeat, first_block)

    def set_repeat(self, node_id: str, repeat: int, first_block: str | None = None, first_params: Any = None) -> None:
        """A block instance's copy count and what its first copy does differently (one step, for undo)."""
        self.check_repeat(node_id, repeat, first_block)
        node = self.node(node_id)
        node.repeat = repeat
        node.first_block = first_block
        node.first_params = dict(first_params or {})
        self.params_changed.emit(node_id)
        self.changed.emit()

    def params_with(self, node_id: str, name: str, value: Any) -> dict[str, Any]:
        """The node's user-set parameters with one of them set to ``value`` (checked), without changing the node
        (``core.model.param_rules.params_with``)."""
        return params_with(self.node(node_id), self.blocks, name, value)

    def check_set_param(self, node_id: str, name: str, value: Any) -> dict[str, Any]:
        """The parameters ``set_param`` would give the node, or the reason (naming the node) it refuses."""
        try:
            params = self.params_with(node_id, name, value)
        except ParameterError as exc:
            raise ParameterError(f"{self.node(node_id).name}: {exc}", node_id) from None
        return self.check_set_params(node_id, params)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter; ``None`` for an auto parameter unpins it so it follows the input shape again."""
        self.set_params(node_id, self.check_set_param(node_id, name, value))

    def check_rename(self, node_id: str, name: str) -> None:
        """Raise the reason the node cannot be called ``name`` (not a usable name, or another node's), or return."""
        node = self.node(node_id)
        problem = name_problem(name)
        if problem is not None:
            raise InvalidNameError(f"Cannot rename {node.name} to {str(name)[:60]!r}: {problem}.", node_id)
        other = self.by_name(name)
        if other is not None and other.id != node_id:
            raise GraphError(f"The name '{name}' is already used by another node.", node_id)

    def set_name(self, node_id: str, name: str) -> None:
        self.check_rename(node_id, name)
        node = self.node(node_id)
        node.name = name
        self.name_changed.emit(node_id)
        self.changed.emit()

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        """Freeze (False) or unfreeze a node; announced as a parameter change (the box redraws)."""
        self.node(node_id).trainable = bool(trainable)
        self.params_changed.emit(node_id)
        self.changed.emit()

    def set_pos(self, node_id: str, pos: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.pos = (float(pos[0]), float(pos[1]))
        self.pos_changed.emit(node_id)

    # --- building helpers (examples, tests) -------------------------------------------------------------
    def add(self, layer_id: str, name: str | None = None, pos: tuple[float, float] = (0.0, 0.0), **params: Any) -> Node:
        return self.add_node(self.create_node(layer_id, pos, name, params))

    def chain(self, nodes: Iterable[Node]) -> None:
        """Connect each node to the next (a Sequential-style stack)."""
        items = list(nodes)
        for a, b in itertools.pairwise(items):
            self.connect(Edge(a.id, b.id))

    # --- (de)serialisation ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self._nodes.values()],
            "edges": [
                {"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port} for e in self._edges
            ],
        }

    def copy(self, library: dict[str, BlockDef] | None = None) -> Graph:
        """An independent copy, block library included: a trial edit on it leaves this graph and its library alone.

        With ``library`` the copy uses that library instead (a definition's graph copied for one instance shares
        the project's library; copying every definition per instance would be quadratic)."""
        if library is None:
            library = {}
            for name, defn in self.blocks.items():  # every definition's graph shares the new library, as here
                library[name] = defn.copy(library)
        other = Graph()
        other.blocks = library
        for node in self._nodes.values():
            other.add_node(node.copy())
        for edge in self._edges:
            other.connect(edge)
        other.sync_ids()
        return other

    def sync_ids(self) -> None:
        """Continue id numbering after the highest existing ``nK`` id (after loading a file)."""
        numbers = [int(n.id[1:]) for n in self._nodes.values() if n.id[:1] == "n" and n.id[1:].isdigit()]
        self._ids = itertools.count(max(numbers, default=0) + 1)
