"""The network as the in-place check (``core.model.in_place``) walks it: every block instance opened up, copy after
copy of a repeat, down to the layers the generated code runs.

Memory does not stop at a block's boundary: a block's Input is the very tensor its instance is handed, and what an
instance returns is the tensor its Output is handed. So a value here is one tensor, named by the layer that made it
and the port: a block that hands its input on (Input wired to Output) makes no value of its own, and whoever reads
its output reads its input's memory. Each layer keeps its label as a path of names ("pre1.relu", "layer2.1.conv1":
the instance, the copy of a repeat, the layer inside), the copy of the analysed graph's instance it sits in (its
scope, whose own analysis already told what stays inside it), and the words of its fix (its ``inplace``, or the
instance's argument that sets it).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from core.errors import TorchCanvasError
from core.model.blocks import MAX_BLOCK_DEPTH, BlockDef, instance_at
from core.model.graph import Graph
from core.model.kinds import memory
from core.model.kinds.kind import Memory
from core.model.node import Node

MEMORY = memory()  # layer id -> where its output lives, for the kinds whose output is not new memory to overwrite
MEMORY_IN_PLACE = memory(in_place=True)  # the same with their inplace set

Scope = tuple[str, int]  # an instance of the analysed graph (its node id) and the copy of a repeat
Value = tuple[int, int]  # one tensor: the index of the layer that made it and its output port


@dataclass(slots=True)
class Layer:
    node: Node
    prefix: str  # the path of names above it: "pre1." (its label is "pre1.relu")
    scope: Scope | None  # None: a layer of the analysed graph itself
    inputs: list[Value | None]
    writes: bool  # it overwrites its input in place (an instance's argument may set that)
    block: BlockDef | None = None  # the definition it is in
    origin: tuple[str, str] | None = None  # the instance (label) and its argument that turn its inplace on

    @property
    def label(self) -> str:
        """The path of names the user finds it by: "pre1.relu", "layer2.1.conv1"."""
        return self.prefix + self.node.name

    @property
    def fix(self) -> str:
        """What to do: "Turn off inplace on relu in block Pre", or which argument of which instance to set."""
        if self.block is None:
            return f"Turn off inplace on {self.node.name}"
        where = f"{self.node.name} in block {self.block.name}"
        if self.origin is not None:
            instance, arg = self.origin
            return f"Set {instance}'s argument {arg} to False (it turns on inplace of {where})"
        return f"Turn off inplace on {where}"


@dataclass
class Flat:
    layers: list[Layer] = field(default_factory=list)
    consumers: dict[Value, list[tuple[int, int]]] = field(default_factory=dict)  # -> (layer index, input port)
    exported: dict[Scope, set[Value]] = field(default_factory=dict)  # what each copy's Outputs hand out
    plans: dict[int, _Plan] = field(default_factory=dict)  # a definition's, worked out once per check

    def add(self, layer: Layer) -> int:
        index = len(self.layers)
        self.layers.append(layer)
        for port, value in enumerate(layer.inputs):
            if value is not None:
                self.consumers.setdefault(value, []).append((index, port))
        return index

    def readers(self, value: Value) -> list[tuple[int, int]]:
        return self.consumers.get(value, [])

    def memory(self, layer: Layer) -> Memory:
        return (MEMORY_IN_PLACE if layer.writes else MEMORY).get(layer.node.type, "new")


@dataclass
class _Level:
    """One graph being opened: the analysed one, or a definition's as one copy of an instance sees it."""

    prefix: str  # "" or "pre1." / "layer2.1."
    scope: Scope | None
    defn: BlockDef | None
    args: dict[str, Any]
    depth: int
    outer: _Level | None = None  # the level the instance is in
    instance: Node | None = None  # the instance, as the outer level has it

    def origin(self, arg: str) -> tuple[str, str]:
        """Where the user sets this copy's argument: on an outer instance when the definition the instance sits
        in binds it to its own argument, else on the instance (its label and the argument)."""
        outer, instance = self.outer, self.instance
        if outer is None or instance is None:
            return self.prefix.rstrip("."), arg
        if outer.defn is not None and (instance.id, arg) in outer.defn.bindings:
            return outer.origin(outer.defn.bindings[(instance.id, arg)])
        return outer.prefix + instance.name, arg


def writes_in_place(node: Node, bound: dict[str, Any] | None = None) -> bool:
    """``bound``: the parameters an instance's arguments set."""
    spec = node.spec
    if spec is None or not spec.has_param("inplace"):
        return False
    if bound and "inplace" in bound:
        return bool(bound["inplace"])
    return bool(node.params.get("inplace", spec.param("inplace").default))


def flatten(graph: Graph, used: set[str]) -> Flat:
    """The layers of ``graph`` that are in the code (``used``), every instance opened up; none where no layer in
    it may overwrite its input (most networks: nothing to walk)."""
    flat = Flat()
    if not _may_write(graph, None, {}, 0):
        return flat
    if any(node.block is not None for node in graph.nodes):
        _open(flat, graph, _plan(graph, used), [], _Level("", None, None, {}, 0))
        return flat
    index: dict[str, int] = {}  # no instance to open: the graph's own layers, in any order (most checks, as
    for node in graph.nodes:  # every copy of every instance is analysed on its own)
        if node.id in used:
            index[node.id] = len(flat.layers)
            flat.layers.append(Layer(node, "", None, [None] * node.input_count(), writes_in_place(node)))
    for edge in graph.edges:
        dst, src = index.get(edge.dst), index.get(edge.src)
        if dst is not None and src is not None and edge.dst_port < len(flat.layers[dst].inputs):
            flat.layers[dst].inputs[edge.dst_port] = (src, edge.src_port)
            flat.consumers.setdefault((src, edge.src_port), []).append((dst, edge.dst_port))
    return flat


def _may_write(graph: Graph, defn: BlockDef | None, known: dict[str, bool], depth: int) -> bool:
    """Whether a layer in the graph, or in a definition an instance of it uses, has its ``inplace`` set or bound
    to an argument (which might set it)."""
    for node in graph.nodes:
        if node.block is None:
            bound = defn is not None and (node.id, "inplace") in defn.bindings
            if bound or writes_in_place(node):
                return True
            continue
        for name in (node.block, node.first_block):
            inner = graph.blocks.get(name) if name else None
            if inner is not None and name not in known and depth < MAX_BLOCK_DEPTH:
                known[inner.name] = False  # a definition that contains itself (refused elsewhere) ends here
                known[inner.name] = _may_write(inner.graph, inner, known, depth + 1)
            if name and known.get(name):
                return True
    return False


@dataclass
class _Plan:
    """A graph's layers in the code, each after its inputs, with the wires into each as (input port, source,
    its output port): read from the wire list once per check, as the networkx order and ``inputs_of`` cost more
    than the whole walk."""

    steps: list[tuple[Node, str, int, list[tuple[int, str, int]]]]  # node, _what, input port count, wires into it
    inputs: dict[str, int]  # a definition's Input node -> its port
    outputs: list[str]  # its Output nodes, in port order
    bindings: list[tuple[str, str, str]]  # (node, parameter, argument) that may matter: inplace, an instance's


def _plan(graph: Graph, used: set[str] | None = None, defn: BlockDef | None = None) -> _Plan:
    """``used`` None: a definition's (``defn``), whose layers in the code are those feeding one of its Outputs."""
    nodes = graph.nodes
    position = {n.id: i for i, n in enumerate(nodes)}
    into: dict[str, list[tuple[int, str, int]]] = {}
    in_order = True  # the nodes were added after their inputs (usual): that order will do
    for edge in graph.edges:
        if edge.src in position and edge.dst in position:
            into.setdefault(edge.dst, []).append((edge.dst_port, edge.src, edge.src_port))
            in_order = in_order and position[edge.src] < position[edge.dst]
    outputs = [n.id for n in nodes if n.type == "Output"]
    if used is None:
        used = set(outputs) or set(position)
        waiting = list(used)
        while waiting:
            for _, src, _ in into.get(waiting.pop(), ()):
                if src not in used:
                    used.add(src)
                    waiting.append(src)
    kept = [n for n in nodes if n.id in used]
    if not in_order:
        kept = _sorted(kept, into)
    inside = defn is not None
    steps = []
    for node in kept:
        wires = into.get(node.id, [])
        steps.append((node, _what(node, inside), max((w[0] for w in wires), default=-1) + 1, wires))
    inputs = {n.id: port for port, n in enumerate(n for n in nodes if n.type == "Input")}
    bindings = [
        (nid, param, arg)
        for (nid, param), arg in (defn.bindings.items() if defn else ())
        if nid in position and (param == "inplace" or graph.node(nid).block is not None)
    ]
    return _Plan(steps, inputs, outputs, bindings)


def _sorted(kept: list[Node], into: dict[str, list[tuple[int, str, int]]]) -> list[Node]:
    """The nodes each after its inputs; those of a cycle (told by the analysis) last, their wires not followed."""
    ids = {n.id: n for n in kept}
    needs = {n.id: {src for _, src, _ in into.get(n.id, ()) if src in ids} for n in kept}
    out_of: dict[str, list[str]] = {}
    for dst, srcs in needs.items():
        for src in srcs:
            out_of.setdefault(src, []).append(dst)
    ready = deque(n.id for n in kept if not needs[n.id])
    placed: list[str] = []
    while ready:
        node_id = ready.popleft()
        placed.append(node_id)
        for dst in out_of.get(node_id, ()):
            needs[dst].discard(node_id)
            if not needs[dst]:
                ready.append(dst)
    done = set(placed)
    return [ids[nid] for nid in placed] + [n for n in kept if n.id not in done]


def _what(node: Node, inside: bool) -> str:
    """How ``_open`` treats the node: a definition's "input" or "output" port, a "block" instance, a layer that
    "may_write" (it has ``inplace``) or any other "layer" (an Input or Output of the analysed graph too)."""
    if inside and node.type in ("Input", "Output"):
        return node.type.lower()
    if node.block is not None:
        return "block"
    spec = node.spec
    return "may_write" if spec is not None and spec.has_param("inplace") else "layer"


def _open(flat: Flat, graph: Graph, plan: _Plan, ins: list[Value | None], level: _Level) -> list[Value | None]:
    """Adds the graph's layers; returns what its Outputs hand out (a definition's output ports, in order)."""
    bound: dict[str, dict[str, Any]] = {}
    for nid, param, arg in plan.bindings:
        if arg in level.args:
            bound.setdefault(nid, {})[param] = level.args[arg]
    values: dict[tuple[str, int], Value | None] = {}
    for node, what, count, wires in plan.steps:
        inputs: list[Value | None] = [None] * count
        for port, src, src_port in wires:
            inputs[port] = values.get((src, src_port))
        if what == "layer":
            index = flat.add(Layer(node, level.prefix, level.scope, inputs, False))
            for port in range(node.output_count()):
                values[(node.id, port)] = (index, port)
        elif what == "input":
            port = plan.inputs[node.id]
            values[(node.id, 0)] = ins[port] if port < len(ins) else None
        elif what == "output":
            values[(node.id, 0)] = inputs[0] if inputs else None
        elif what == "block":
            if node.id in bound:
                node = dataclasses.replace(node, params={**node.params, **bound[node.id]})
            for port, value in enumerate(_open_instance(flat, graph, node, inputs, level)):
                values[(node.id, port)] = value
        else:  # a layer that may overwrite its input
            writes = writes_in_place(node, bound.get(node.id))
            layer = Layer(node, level.prefix, level.scope, inputs, writes)
            if writes and level.defn is not None:
                layer.block = level.defn
                setter = level.defn.bindings.get((node.id, "inplace"))
                layer.origin = level.origin(setter) if setter is not None else None
            index = flat.add(layer)
            for port in range(node.output_count()):
                values[(node.id, port)] = (index, port)
    return [values.get((node_id, 0)) for node_id in plan.outputs]


def _open_instance(
    flat: Flat, graph: Graph, node: Node, inputs: list[Value | None], level: _Level
) -> list[Value | None]:
    """The instance's copies one after the other; one it cannot open (a missing definition, nested too deep: the
    analysis tells those) stands as one layer making new memory."""
    label = level.prefix + node.name
    values = inputs
    for copy in range(node.repeat):
        try:
            defn, args = instance_at(graph, node, copy)
        except TorchCanvasError:
            defn = None
        if defn is None or level.depth >= MAX_BLOCK_DEPTH:
            opaque = Layer(node, level.prefix, level.scope, values, False)
            index = flat.add(opaque)
            return [(index, port) for port in range(node.output_count())]
        prefix = f"{label}.{copy}." if node.repeat > 1 else f"{label}."
        scope = level.scope or (node.id, copy)
        inner = _Level(prefix, scope, defn, args, level.depth + 1, level, node)
        if id(defn.graph) not in flat.plans:
            flat.plans[id(defn.graph)] = _plan(defn.graph, defn=defn)
        values = _open(flat, defn.graph, flat.plans[id(defn.graph)], values, inner)
        if level.scope is None:
            flat.exported.setdefault(scope, set()).update(v for v in values if v is not None)
    return values
