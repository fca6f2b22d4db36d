"""Block edits: make a block from a selection, ungroup an instance, expose a parameter as an argument.

``make_block`` and ``ungroup`` are pure operations returning an ``Edit`` whose ``revert`` undoes them exactly (ids,
names, positions and wire order restored); the editor wraps each as one undo command. An ``Edit`` records only
primitive ``Graph`` calls, so every signal fires as for hand edits. The definitions themselves, their rules and
their file form are ``core.model.blocks``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import CycleError, GraphError
from core.model.analysis import Analysis, analyze
from core.model.blocks import (
    BlockArg,
    BlockDef,
    arg_name_problem,
    check_class_name,
    concrete_graph,
    instance_at,
    new_instance,
)
from core.model.graph import Graph
from core.model.node import Edge, Node

Value = tuple[str, int]  # a value in the graph: (node id, output port)


@dataclass
class Edit:
    """A recorded list of primitive graph changes; ``revert`` undoes them in reverse order, ``apply`` redoes."""

    graph: Graph
    steps: list[tuple[Callable[[], Any], Callable[[], Any]]] = field(default_factory=list)
    definition: BlockDef | None = None
    instance: Node | None = None
    added: list[Node] = field(default_factory=list)

    def do(self, forward: Callable[[], Any], backward: Callable[[], Any]) -> Any:
        result = forward()  # recorded once done: a refused step has nothing to revert
        self.steps.append((forward, backward))
        return result

    def revert(self) -> None:
        for _, backward in reversed(self.steps):
            backward()

    def apply(self) -> None:
        for forward, _ in self.steps:
            forward()


def _remove_node(edit: Edit, graph: Graph, node: Node) -> None:
    index = graph.index_of(node.id)
    edit.do(lambda: graph.remove_node(node.id), lambda: graph.add_node(node, index))


def _disconnect(edit: Edit, graph: Graph, edge: Edge) -> None:
    index = graph.edges.index(edge)
    edit.do(lambda: graph.disconnect(edge), lambda: graph.connect(edge, index))


def _connect(edit: Edit, graph: Graph, edge: Edge) -> None:
    edit.do(lambda: graph.connect(edge), lambda: graph.disconnect(edge))


def _add_node(edit: Edit, graph: Graph, node: Node) -> None:
    edit.do(lambda: graph.add_node(node), lambda: graph.remove_node(node.id))


def _whole(edit: Edit, steps: Callable[[], Any]) -> Any:
    """Run ``steps`` (which record into ``edit``); if one is refused, revert those done and re-raise: an edit
    happens whole or not at all, so no caller has to snapshot and restore the graph or its library."""
    try:
        return steps()
    except Exception:
        edit.revert()
        raise


def check_make_block(graph: Graph, node_ids: list[str], name: str) -> list[str]:
    """Raise the reason ``make_block`` refuses, or return the chosen layers in graph order. A selection with a
    layer outside it both fed by it and feeding it cannot become one block: the instance would feed itself."""
    check_class_name(name)
    if name in graph.blocks:
        raise GraphError(f"There is already a block named {name}; choose another name.")
    chosen = _chosen_layers(graph, node_ids)
    inside = set(chosen)
    after = set().union(*(graph.downstream(nid) for nid in chosen)) - inside
    for nid in chosen:
        between = graph.upstream(nid) & after
        if between:
            other = graph.node(min(between, key=graph.index_of))
            raise CycleError(
                f"{other.name} takes a value from the selection and gives one back to it, so the block would make "
                f"a cycle: select {other.name} too, or leave out the layers after it.",
                other.id,
            )
    return chosen


def make_block(graph: Graph, node_ids: list[str], name: str) -> Edit:
    """The selected layers become a new definition ``name`` and one instance of it in their place.

    Wires inside the selection are kept in the definition; each distinct value entering it becomes an input port
    (an Input node, in the order the values are produced), each value leaving it an output port. Returns the
    ``Edit`` (``.definition``, ``.instance``); ``edit.revert()`` restores the graph and drops the definition.
    Checked first (``check_make_block``); a refusal changes nothing.
    """
    chosen = check_make_block(graph, node_ids, name)
    analysis = analyze(graph)  # shapes of the values entering, for the definition's own Input nodes
    entering, leaving = _boundary_values(graph, set(chosen))
    defn = BlockDef(name, _definition_graph(graph, analysis, chosen, entering, leaving))
    edit = Edit(graph, definition=defn)

    def steps() -> None:
        edit.do(lambda: graph.blocks.__setitem__(name, defn), lambda: graph.blocks.pop(name, None))
        edit.instance = _replace_with_instance(edit, defn, chosen, entering, leaving)

    _whole(edit, steps)
    return edit


def _chosen_layers(graph: Graph, node_ids: list[str]) -> list[str]:
    """The selection in graph order; refuses an empty one and one holding the network's Input or Output."""
    chosen = [nid for nid in graph.topological_order() if nid in set(node_ids)]
    if not chosen:
        raise GraphError("Select the layers to make into a block first.")
    for nid in chosen:
        if graph.node(nid).type in ("Input", "Output"):
            raise GraphError(f"{graph.node(nid).name}: the network's Input and Output stay outside a block.", nid)
    return chosen


def _boundary_values(graph: Graph, inside: set[str]) -> tuple[list[Value], list[Value]]:
    """The distinct values entering and leaving the selection, each in the order they are produced."""
    entering: list[Value] = []
    leaving: list[Value] = []
    for edge in graph.edges:
        if edge.dst in inside and edge.src not in inside and (edge.src, edge.src_port) not in entering:
            entering.append((edge.src, edge.src_port))
        if edge.src in inside and edge.dst not in inside and (edge.src, edge.src_port) not in leaving:
            leaving.append((edge.src, edge.src_port))
    rank = {nid: i for i, nid in enumerate(graph.topological_order())}
    entering.sort(key=lambda v: (rank[v[0]], v[1]))
    leaving.sort(key=lambda v: (rank[v[0]], v[1]))
    return entering, leaving


def _definition_graph(
    graph: Graph, analysis: Analysis, chosen: list[str], entering: list[Value], leaving: list[Value]
) -> Graph:
    """The new definition's graph: an Input per entering value (its shape), copies of the chosen layers with
    their own ids and inner wires, an Output per leaving value."""
    inside = set(chosen)
    inner = Graph()
    inner.blocks = graph.blocks
    ins: dict[Value, Node] = {}
    for i, value in enumerate(entering):
        info = analysis.nodes.get(value[0])
        shape = info.port_shape(value[1]) if info is not None else None
        params: dict[str, Any] = {"shape": [int(d or 1) for d in shape[1:]] if shape and len(shape) > 1 else [1]}
        if info is not None and info.dtype == "int64":
            params["dtype"] = "int64"
        port_node = inner.create_node("Input", (0.0, 120.0 * i), "x" if i == 0 else f"x{i + 1}", params)
        port_node.id = graph.new_id()  # never the id of a chosen layer, which keeps its own id inside the block
        ins[value] = inner.add_node(port_node)
    for nid in chosen:
        inner.add_node(graph.node(nid).copy())
    for edge in graph.edges:
        if edge.dst in inside:
            if edge.src in inside:
                inner.connect(edge)
            else:
                inner.connect(Edge(ins[(edge.src, edge.src_port)].id, edge.dst, edge.dst_port))
    for j, value in enumerate(leaving):
        out = inner.add("Output", "output" if j == 0 else f"output{j + 1}", (400.0, 120.0 * j))
        inner.connect(Edge(value[0], out.id, 0, value[1]))
    inner.sync_ids()
    return inner


def _replace_with_instance(
    edit: Edit, defn: BlockDef, chosen: list[str], entering: list[Value], leaving: list[Value]
) -> Node:
    """Recorded in ``edit``: the chosen layers and their wires go; one instance, at their centre, takes the wires."""
    graph = edit.graph
    inside = set(chosen)
    xs = [graph.node(n).pos[0] for n in chosen]
    ys = [graph.node(n).pos[1] for n in chosen]
    instance = new_instance(graph, defn, (sum(xs) / len(xs), sum(ys) / len(ys)))
    boundary = [e for e in graph.edges if (e.src in inside) != (e.dst in inside)]
    for edge in [e for e in graph.edges if e.src in inside or e.dst in inside]:
        _disconnect(edit, graph, edge)
    for nid in chosen:
        _remove_node(edit, graph, graph.node(nid))
    _add_node(edit, graph, instance)
    for port, (src, src_port) in enumerate(entering):
        _connect(edit, graph, Edge(src, instance.id, port, src_port))
    for edge in boundary:
        if edge.src in inside:
            port = leaving.index((edge.src, edge.src_port))
            _connect(edit, graph, Edge(instance.id, edge.dst, edge.dst_port, port))
    return instance


def _source(
    ins: list[str], feeding: list[tuple[str, int] | None], new_ids: dict[str, str], src: str, port: int
) -> tuple[str, int] | None:
    """Where a value inside an inlined block comes from in the outer graph."""
    if src in ins:
        index = ins.index(src)
        return feeding[index] if index < len(feeding) else None
    return new_ids[src], port


def check_ungroup(graph: Graph, instance_id: str) -> None:
    """Raise the reason ``ungroup`` refuses (not a block, a definition it or its first copy names is missing)."""
    node = graph.node(instance_id)
    if node.block is None:
        raise GraphError(f"{node.name} is not a block.", instance_id)
    for index in range(min(node.repeat, 2)):  # copies after the first are all the same definition
        instance_at(graph, node, index)


def ungroup(graph: Graph, instance_id: str) -> Edit:
    """Inline one instance: its definition's layers (with the instance's argument values) replace it.

    A repeated instance is inlined copy by copy, chained; names are kept where free, else numbered. Checked first
    (``check_ungroup``); a refusal changes nothing."""
    check_ungroup(graph, instance_id)
    edit = Edit(graph)
    _whole(edit, lambda: _inline(edit, graph, instance_id))
    return edit


def _inline(edit: Edit, graph: Graph, instance_id: str) -> None:
    """``ungroup``'s steps, recorded in ``edit``."""
    node = graph.node(instance_id)
    outer_in = graph.inputs_of(instance_id)
    outer_out = graph.consumers(instance_id)
    for edge in graph.edges_of(instance_id):
        _disconnect(edit, graph, edge)
    _remove_node(edit, graph, node)
    feeding: list[tuple[str, int] | None] = [(e.src, e.src_port) if e else None for e in outer_in]
    for index in range(node.repeat):
        defn, args = instance_at(graph, node, index)
        concrete = concrete_graph(defn, args, [], [])
        new_ids: dict[str, str] = {}
        for inner_node in concrete.nodes:
            if inner_node.type in ("Input", "Output"):
                continue
            copy = inner_node.copy()
            copy.id = graph.new_id()
            if graph.by_name(copy.name) is not None:
                copy.name = graph.unique_name(f"{node.name}_{copy.name}_")
            copy.pos = (node.pos[0] + inner_node.pos[0] * 0.5, node.pos[1] + inner_node.pos[1] * 0.5 + 300 * index)
            new_ids[inner_node.id] = copy.id
            _add_node(edit, graph, copy)
            edit.added.append(copy)
        ins = defn.input_ids
        for edge in concrete.edges:
            if edge.dst in new_ids:
                origin = _source(ins, feeding, new_ids, edge.src, edge.src_port)
                if origin is not None:
                    _connect(edit, graph, Edge(origin[0], new_ids[edge.dst], edge.dst_port, origin[1]))
        results: list[tuple[str, int] | None] = []
        for out_id in defn.output_ids:
            wire = concrete.inputs_of(out_id)[0]
            results.append(_source(ins, feeding, new_ids, wire.src, wire.src_port) if wire else None)
        feeding = results
    for edge in outer_out:
        origin = feeding[edge.src_port] if edge.src_port < len(feeding) else None
        if origin is not None:
            _connect(edit, graph, Edge(origin[0], edge.dst, edge.dst_port, origin[1]))


# --- arguments ---------------------------------------------------------------------------------------------------
def check_expose_arg(defn: BlockDef, node_id: str, param: str, arg: str | None = None) -> None:
    """Raise the reason ``expose_arg`` refuses (a bad argument name, no such parameter, already an argument)."""
    node = defn.graph.node(node_id)
    arg = arg or param
    problem = arg_name_problem(arg)
    if problem is not None:
        raise GraphError(f"{arg[:40]!r} cannot be an argument name: {problem}.", node_id)
    spec = node.spec
    if spec is None or not spec.has_param(param):
        raise GraphError(f"{node.name} has no parameter {param!r} to expose.", node_id)
    if (node_id, param) in defn.bindings:
        raise GraphError(f"{node.name}.{param} is already an argument of {defn.name}.", node_id)


def expose_arg(defn: BlockDef, node_id: str, param: str, arg: str | None = None, keyword: bool = True) -> BlockArg:
    """Make a pinned parameter inside the block a constructor argument (default: its current value)."""
    check_expose_arg(defn, node_id, param, arg)
    node = defn.graph.node(node_id)
    arg = arg or param
    spec = node.spec
    assert spec is not None  # checked
    value = node.params.get(param, spec.param(param).default)
    existing = defn.arg(arg)
    if existing is None:
        existing = BlockArg(arg, value, keyword)
        defn.args.append(existing)
    defn.bindings[(node_id, param)] = arg
    return existing
