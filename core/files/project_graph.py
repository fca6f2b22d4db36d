"""Reading the graph part of a project file: layers, wires and block definitions, every field checked.

A wire to a port a layer does not have, an unknown layer type or a loop among block definitions becomes one
``ProjectLoadError`` naming the file and the field; fields a newer version wrote are kept in ``UnknownFields``.
"""

from __future__ import annotations

import bisect
import graphlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from core.errors import ProjectLoadError, TorchCanvasError
from core.model.blocks import (
    BLOCK_TYPE,
    MAX_BLOCKS,
    MAX_REPEAT,
    BlockArg,
    BlockDef,
    Library,
    check_class_name,
    check_definition,
    check_instances,
    check_library,
)
from core.model.catalog import LAYERS
from core.model.graph import Graph
from core.model.names import name_problem
from core.model.node import Edge, Node, validate_params

MAX_NODES = 1000  # a big beginner network has about 100; the editor stays responsive well past this
MAX_EDGES = 4000
MAX_PORTS = 64
_BLOCK_NODE_KEYS = frozenset({"ports", "block", "repeat", "first_block", "first_params", "key"})
_BLOCK_KEYS = frozenset({"name", "graph", "args", "bindings", "description", "as_class"})
_NODE_KEYS = frozenset({"id", "type", "name", "params", "pos", "trainable", "key"})
_EDGE_KEYS = frozenset({"src", "dst", "src_port", "dst_port"})
_BlockFields = tuple[str, int, str | None, dict[str, Any]]  # a block node's block, repeat, first_block, first_params


@dataclass
class UnknownFields:
    """Fields a newer (minor) version wrote that this version does not understand; written back on save."""

    graph: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> its unknown keys
    edges: dict[Edge, dict[str, Any]] = field(default_factory=dict)  # wire -> its unknown keys

    def __bool__(self) -> bool:
        return bool(self.graph or self.training or self.nodes or self.edges)


def _expect(value: Any, kind: type | tuple[type, ...], where: str, field_name: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
        raise ProjectLoadError(f"expected {what}, found {type(value).__name__}", where, field_name)
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _port(item: dict[str, Any], key: str) -> int | None:
    port = item.get(key, 0)
    return port if _whole(port) and 0 <= port < MAX_PORTS else None


def _unknown_ports(node_id: str, item: dict[str, Any], edges: list[Any], where: str, at: str) -> tuple[int, int] | None:
    """Port counts of an unknown layer type: the stored ``ports``, widened to every wire the file has."""
    stored = item.get("ports")
    ins = outs = 0
    if stored is not None:
        if not (
            isinstance(stored, list) and len(stored) == 2 and all(_whole(v) and 0 <= v <= MAX_PORTS for v in stored)
        ):
            raise ProjectLoadError(f"ports must be two whole numbers from 0 to {MAX_PORTS}", where, f"{at}.ports")
        ins, outs = stored
    for wire in edges:
        if not isinstance(wire, dict):
            continue
        dst_port, src_port = _port(wire, "dst_port"), _port(wire, "src_port")
        if wire.get("dst") == node_id and dst_port is not None:
            ins = max(ins, dst_port + 1)
        if wire.get("src") == node_id and src_port is not None:
            outs = max(outs, src_port + 1)
    if stored is None and not ins and not outs:
        return None
    return ins, outs


def _in_flow_order(wires: list[tuple[int, Edge, dict[str, Any]]]) -> list[tuple[int, Edge, dict[str, Any]]]:
    """Wires sorted by where their target sits in the data flow, so that each cycle check on connecting finds
    nothing downstream yet (linear instead of quadratic for a long chain listed backwards). A cyclic set keeps
    the file's order, and connecting reports the cycle."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for _, edge, _ in wires:
        sorter.add(edge.dst, edge.src)
    try:
        rank = {node_id: n for n, node_id in enumerate(sorter.static_order())}
    except graphlib.CycleError:
        return wires
    return sorted(wires, key=lambda wire: (rank[wire[1].dst], wire[0]))


def _library_from_list(items: Any, where: str) -> Library:
    """The project's block definitions: each checked like the network, none containing itself, nesting bounded."""
    _expect(items, list, where, "graph.blocks", "a list")
    if len(items) > MAX_BLOCKS:
        too_many = f"too many block definitions ({len(items)}; at most {MAX_BLOCKS})"
        raise ProjectLoadError(too_many, where, "graph.blocks")
    library: Library = {}
    total = 0
    for i, item in enumerate(items):
        at = f"graph.blocks[{i}]"
        name, graph = _block_graph(item, library, where, at)
        total += len(graph)
        if total > MAX_NODES:
            raise ProjectLoadError(f"the blocks hold more than {MAX_NODES} nodes", where, at)
        library[name] = _block_definition(name, graph, item, where, at)
    _check_library(library, where)
    return library


def _block_graph(item: Any, library: Library, where: str, at: str) -> tuple[str, Graph]:
    """A definition's name and network, read like the project's own network; which blocks its instances name is
    checked once every definition is read, since one may use a block defined after it."""
    _expect(item, dict, where, at, "an object")
    name = item.get("name")
    try:
        check_class_name(name)
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, f"{at}.name") from None
    if name in library:
        raise ProjectLoadError(f"two blocks are named {name}", where, f"{at}.name")
    unknown_keys = set(item) - _BLOCK_KEYS
    if unknown_keys:
        raise ProjectLoadError(f"unknown block field {sorted(unknown_keys)[0][:40]!r}", where, at)
    graph_data = _expect(item.get("graph"), dict, where, f"{at}.graph", "an object")
    return name, graph_from_dict(graph_data, f"{where}", None, library, f"{at}.graph")


def _block_definition(name: str, graph: Graph, item: dict[str, Any], where: str, at: str) -> BlockDef:
    """The rest of a definition: its arguments, which layer parameters they set, and how it is written."""
    args = []
    for j, arg in enumerate(_expect(item.get("args", []), list, where, f"{at}.args", "a list")):
        _expect(arg, dict, where, f"{at}.args[{j}]", "an object")
        args.append(BlockArg(arg.get("name"), arg.get("default"), arg.get("keyword", True)))
    bindings: dict[tuple[str, str], str] = {}
    for j, bind in enumerate(_expect(item.get("bindings", []), list, where, f"{at}.bindings", "a list")):
        _expect(bind, dict, where, f"{at}.bindings[{j}]", "an object")
        key = (bind.get("node"), bind.get("param"))
        if not all(isinstance(v, str) for v in (*key, bind.get("arg"))):
            raise ProjectLoadError("a binding needs node, param and arg as text", where, f"{at}.bindings[{j}]")
        bindings[key] = bind["arg"]  # type: ignore[index]
    description = _expect(item.get("description", ""), str, where, f"{at}.description", "text")
    as_class = _expect(item.get("as_class", False), bool, where, f"{at}.as_class", "true or false")
    return BlockDef(name, graph, args, bindings, description[:500], as_class)


def _check_library(library: Library, where: str) -> None:
    """Checks that need every definition read: none contains itself or a missing block, nesting is bounded, and
    each block's ports, bindings and instances are valid."""
    try:
        check_library(library)
        for defn in library.values():
            check_definition(defn)
            check_instances(defn.graph, f"block {defn.name}: ")
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, "graph.blocks") from None


def _block_fields(item: dict[str, Any], where: str, at: str) -> _BlockFields:
    name = _expect(item.get("block"), str, where, f"{at}.block", "a block name")
    repeat = item.get("repeat", 1)
    if not _whole(repeat) or not 1 <= repeat <= MAX_REPEAT:
        raise ProjectLoadError(f"repeat must be a whole number from 1 to {MAX_REPEAT}", where, f"{at}.repeat")
    first = item.get("first_block")
    if first is not None:
        _expect(first, str, where, f"{at}.first_block", "a block name")
    first_params = _expect(item.get("first_params", {}), dict, where, f"{at}.first_params", "an object")
    return name[:100], repeat, first, json.loads(json.dumps(first_params))


def _module_key(key: Any, where: str, at: str) -> str | None:
    """A module's name in an imported model's weights that is not a Python name (``block1-0``, ``0``), or None."""
    if key is None:
        return None
    if not (isinstance(key, str) and 0 < len(key) <= 64 and key.isprintable()):
        raise ProjectLoadError("a key (a module's name in the weights) must be short printable text", where, at)
    if "." in key or key.isidentifier():
        raise ProjectLoadError("a key has no dots and is not a Python name (the name says that)", where, at)
    return key


def graph_from_dict(
    data: dict[str, Any],
    where: str = "<project>",
    unknown: UnknownFields | None = None,
    library: Library | None = None,
    field_name: str = "graph",
) -> Graph:
    """The graph part of a project; unknown node and wire fields are collected into ``unknown``."""
    kept = unknown if unknown is not None else UnknownFields()
    graph = Graph()
    if library is not None:
        graph.blocks = library
    nodes, edges = _node_and_wire_lists(data, where, field_name)
    for i, item in enumerate(nodes):
        _add_node(graph, kept, item, edges, where, f"{field_name}.nodes[{i}]")
    wires = [_read_wire(graph, i, item, where, f"{field_name}.edges[{i}]") for i, item in enumerate(edges)]
    _connect_in_file_order(graph, kept, wires, where, field_name)
    graph.sync_ids()
    return graph


def _node_and_wire_lists(data: dict[str, Any], where: str, field_name: str) -> tuple[list[Any], list[Any]]:
    """Both lists, bounded before anything in them is read, so a huge file fails fast instead of slowly."""
    nodes = _expect(data.get("nodes", []), list, where, f"{field_name}.nodes", "a list")
    edges = _expect(data.get("edges", []), list, where, f"{field_name}.edges", "a list")
    if len(nodes) > MAX_NODES:
        raise ProjectLoadError(f"too many nodes ({len(nodes)}; at most {MAX_NODES})", where, f"{field_name}.nodes")
    if len(edges) > MAX_EDGES:
        raise ProjectLoadError(f"too many wires ({len(edges)}; at most {MAX_EDGES})", where, f"{field_name}.edges")
    return nodes, edges


def _add_node(graph: Graph, kept: UnknownFields, item: Any, edges: list[Any], where: str, at: str) -> None:
    """One node from the file; the graph's own checks (a duplicate id) are reported at the node's place."""
    node_id, layer, name, params, pos = _node_fields(item, where, at)
    block = _block_fields(item, where, at) if layer == BLOCK_TYPE else None
    params, ports, known_keys = _params_and_ports(item, node_id, layer, name, params, edges, block, where, at)
    try:
        node = Node(node_id, layer, name, params, (float(pos[0]), float(pos[1])), ports)
        if block is not None:
            node.block, node.repeat, node.first_block, node.first_params = block
        node.key = _module_key(item.get("key"), where, at)  # a layer's too: an imported list's "0"
        node.trainable = _expect(item.get("trainable", True), bool, where, f"{at}.trainable", "true or false")
        graph.add_node(node)
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, at) from None
    extra = {k: v for k, v in item.items() if k not in known_keys}
    if extra:
        kept.nodes[node_id] = extra


def _node_fields(item: Any, where: str, at: str) -> tuple[str, str, Any, dict[str, Any], list[Any]]:
    """The fields every node has, each checked in the order the file's reader reports problems."""
    _expect(item, dict, where, at, "an object")
    node_id = _expect(item.get("id"), str, where, f"{at}.id", "text")
    if not node_id or len(node_id) > 64 or not node_id.isprintable():
        raise ProjectLoadError("a node id must be short printable text", where, f"{at}.id")
    layer = _expect(item.get("type"), str, where, f"{at}.type", "text")
    name = item.get("name")
    problem = name_problem(name)
    if problem:
        raise ProjectLoadError(f"the node name {str(name)[:60]!r} is not allowed: {problem}", where, f"{at}.name")
    params = _expect(item.get("params", {}), dict, where, f"{at}.params", "an object")
    pos = item.get("pos", [0, 0])
    if not (isinstance(pos, list) and len(pos) == 2 and all(_finite_number(v) and abs(v) < 1e9 for v in pos)):
        raise ProjectLoadError("pos must be two finite numbers", where, f"{at}.pos")
    return node_id, layer, name, params, pos


def _params_and_ports(
    item: dict[str, Any],
    node_id: str,
    layer: str,
    name: Any,
    params: dict[str, Any],
    edges: list[Any],
    block: _BlockFields | None,
    where: str,
    at: str,
) -> tuple[dict[str, Any], tuple[int, int] | None, frozenset[str]]:
    """A catalog layer's parameters are validated; a block's or an unknown layer's are kept as plain data, with
    port counts from the file, so a project from a newer version opens and saves back unchanged."""
    if block is not None:
        params = json.loads(json.dumps(params))  # checked against the definition once all are read
        return params, _unknown_ports(node_id, item, edges, where, at), _NODE_KEYS | _BLOCK_NODE_KEYS
    spec = LAYERS.get(layer)
    if spec is not None:
        try:
            return validate_params(spec, params, name), None, _NODE_KEYS
        except TorchCanvasError as exc:
            raise ProjectLoadError(str(exc), where, f"{at}.params") from None
    if not layer or len(layer) > 100 or not layer.isprintable():
        raise ProjectLoadError("a layer type must be short printable text", where, f"{at}.type")
    params = json.loads(json.dumps(params))  # plain data only; kept as is for an unknown layer
    return params, _unknown_ports(node_id, item, edges, where, at), _NODE_KEYS | {"ports"}


def _read_wire(graph: Graph, i: int, item: Any, where: str, at: str) -> tuple[int, Edge, dict[str, Any]]:
    """One wire, checked but not yet connected: (its place in the file, the wire, its unknown fields)."""
    _expect(item, dict, where, at, "an object")
    src = _expect(item.get("src"), str, where, f"{at}.src", "a node id")
    dst = _expect(item.get("dst"), str, where, f"{at}.dst", "a node id")
    dst_port, src_port = _port(item, "dst_port"), _port(item, "src_port")
    if dst_port is None:
        raise ProjectLoadError("dst_port must be a small whole number", where, f"{at}.dst_port")
    if src_port is None:
        raise ProjectLoadError("src_port must be a small whole number", where, f"{at}.src_port")
    if src not in graph or dst not in graph:
        raise ProjectLoadError("the wire names a node that does not exist", where, at)
    return i, Edge(src, dst, dst_port, src_port), {k: v for k, v in item.items() if k not in _EDGE_KEYS}


def _connect_in_file_order(
    graph: Graph, kept: UnknownFields, wires: list[tuple[int, Edge, dict[str, Any]]], where: str, field_name: str
) -> None:
    """Connect in data-flow order (fast cycle checks) while each wire keeps its place in the file's order, so
    load + save writes the wires back exactly as they were."""
    added: list[int] = []  # file positions of the wires connected so far, sorted
    for i, edge, extra in _in_flow_order(wires):
        index = bisect.bisect_left(added, i)
        try:
            graph.connect(edge, index=index)  # at its place in the file's order, whatever order it is added in
        except TorchCanvasError as exc:
            raise ProjectLoadError(str(exc), where, f"{field_name}.edges[{i}]") from None
        added.insert(index, i)
        if extra:
            kept.edges[edge] = extra
