"""A block and its variant with a shortcut layer written as one class, as torchvision writes ``BasicBlock``.

ResNet's blocks come in two drawings: the plain one (``out + x``) and the first of a stage, whose shortcut goes
through a layer of its own (``out + downsample(x)``, a strided 1x1 convolution and a BatchNorm). A person writes
one class with ``downsample: nn.Module | None = None`` and passes the shortcut in where a stage starts
(``BasicBlock(64, 128, stride=2, downsample=nn.Sequential(...))``). The code generator does the same whenever
two definitions the network uses differ by exactly that: one layer (or chain) between the block's input and an
Add. The variant's class is then not written; its instances call the plain class with the shortcut's module,
whose attribute keeps its name, so the state_dict keys (``layer2.0.downsample.0.weight``) load as before.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from core.model.blocks import BlockArg, BlockDef, dependency_order, instance_at, keyword_name
from core.model.graph import Graph


@dataclass(frozen=True)
class Shortcut:
    """How a variant is written: the plain definition's class, given its shortcut node as ``attr``."""

    plain: BlockDef
    node_id: str  # the shortcut layer inside the variant's graph
    attr: str  # its attribute, and the plain class's argument: "downsample"
    add: str  # the Add's name (the same in both drawings)
    port: int  # the Add's input port the shortcut feeds


def _find_shortcut(defn: BlockDef) -> tuple[str, str, int] | None:
    """The variant's shortcut: a node with one input (from one of the block's Inputs) whose one reader is an
    Add; (its id, the Add's id, the port) or None."""
    g = defn.graph
    inputs = set(defn.input_ids)
    found = []
    for node in g.nodes:
        wires = [w for w in g.inputs_of(node.id) if w is not None]
        readers = g.consumers(node.id)
        if len(wires) != 1 or wires[0].src not in inputs or len(readers) != 1:
            continue
        reader = g.node(readers[0].dst)
        if reader.type == "Add" and node.name.isidentifier() and node.key is None and node.repeat == 1:
            found.append((node.id, reader.id, readers[0].dst_port))
    return found[0] if len(found) == 1 else None


def _shape(g: Graph, skip: str | None = None, values: bool = True) -> tuple[frozenset, frozenset]:
    """A drawing as names, kinds, parameters and wires, with ``skip`` taken out and its wire joined up; without
    ``values``, only which parameters each layer has (and an Input's none: an instance gives its shape)."""
    name = {n.id: n.name for n in g.nodes}
    nodes = frozenset(
        (
            n.name,
            n.type,
            repr(sorted(n.params.items()) if values else [] if n.type == "Input" else sorted(n.params)),
            n.block,
            n.repeat,
            n.first_block,
            n.key,
            n.trainable,
            repr(sorted(n.first_params.items())) if values else "",
        )
        for n in g.nodes
        if n.id != skip
    )
    source = {}
    if skip is not None:
        wire = next(w for w in g.inputs_of(skip) if w is not None)
        source = {skip: (wire.src, wire.src_port)}
    edges = set()
    for e in g.edges:
        if e.dst == skip:
            continue
        src, port = source.get(e.src, (e.src, e.src_port))
        edges.add((name[src], port, name[e.dst], e.dst_port))
    return nodes, frozenset(edges)


def _same_arguments(plain: BlockDef, variant: BlockDef, skip: str) -> bool:
    """The same arguments, bound alike (a keyword's default may differ: a variant's call passes what differs from
    the plain class's)."""
    if [(a.name, a.keyword) for a in plain.args] != [(a.name, a.keyword) for a in variant.args]:
        return False
    p_name = {n.id: n.name for n in plain.graph.nodes}
    v_name = {n.id: n.name for n in variant.graph.nodes}
    p_bind = {(p_name[nid], param): arg for (nid, param), arg in plain.bindings.items()}
    v_bind = {(v_name[nid], param): arg for (nid, param), arg in variant.bindings.items() if nid != skip}
    return p_bind == v_bind


def _same_signature(plain: BlockDef, variant: BlockDef) -> bool:
    """The same constructor arguments, none of them an auto value of one layer (those name the layer), and no auto
    value written as the number the plain class's instances agree on (the variant's might differ)."""
    # it imports core.code.codegen_blocks, which imports this module
    from core.code.block_signature import has_fixed_values, signature

    ours, theirs = ([(kind, key) for kind, key, _ in signature(d)] for d in (plain, variant))
    fixed = has_fixed_values(plain) or has_fixed_values(variant)
    return ours == theirs and all(kind != "extra" for kind, _ in ours) and not fixed


def optional_shortcuts(definitions: list[BlockDef]) -> dict[str, Shortcut]:
    """Variant name -> how it is written, for every used definition that is another used one plus a shortcut
    layer (classes with arguments of their own for auto values are left as they are)."""
    found: dict[str, Shortcut] = {}
    plain_shapes = {d.name: _shape(d.graph) for d in definitions}
    for variant in definitions:
        hit = _find_shortcut(variant)
        if hit is None:
            continue
        node_id, add_id, port = hit
        reduced = _shape(variant.graph, node_id)
        for plain in definitions:
            if plain is variant or plain.name in found or plain_shapes[plain.name] != reduced:
                continue
            same = _same_arguments(plain, variant, node_id) and _same_signature(plain, variant)
            if same and _find_shortcut(plain) is None:
                attr = variant.graph.node(node_id).name
                if attr not in {n.name for n in plain.graph.nodes}:
                    add = variant.graph.node(add_id).name
                    found[variant.name] = Shortcut(plain, node_id, attr, add, port)
                    break
    return found


_SHORTCUTS: ContextVar[dict[str, Shortcut] | None] = ContextVar("block_shortcuts", default=None)


@contextmanager
def shortcuts(found: dict[str, Shortcut]) -> Iterator[None]:
    """The variants written through their plain class, for one generation."""
    token = _SHORTCUTS.set(found)
    try:
        yield
    finally:
        _SHORTCUTS.reset(token)


def shortcut_of(defn: BlockDef) -> Shortcut | None:
    """How ``defn`` is written through another class in this generation, or None."""
    found = _SHORTCUTS.get()
    return found.get(defn.name) if found else None


def optional_argument(plain: BlockDef) -> Shortcut | None:
    """The shortcut argument ``plain``'s class takes in this generation (a variant is written through it)."""
    found = _SHORTCUTS.get() or {}
    return next((s for s in found.values() if s.plain is plain), None)


# --- a variant imported with its own numbers -------------------------------------------------------------------
# An imported ResNet's BasicBlock comes in as two definitions, one per way torchvision's instances differ: the
# first block of a stage has the shortcut, ``stride=2`` fixed in its conv1 and its own ``out_channels`` default
# (its first instance's). ``aligned_variants`` writes such a pair the way the shortcut merge above needs it.


@dataclass
class _Plan:
    """What a variant and its plain definition are given: new arguments (name -> the plain value, the variant's
    and the (plain node, variant node, parameter) each sets) and the arguments that lose their default."""

    plain: str
    variant: str
    new_args: dict[str, tuple[Any, Any, list[tuple[str, str, str]]]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, default=repr, sort_keys=True) == json.dumps(b, default=repr, sort_keys=True)  # 1 is not 1.0


def _plan(plain: BlockDef, variant: BlockDef, skip: str) -> _Plan | None:
    """How ``variant`` (``plain`` plus the shortcut ``skip``, drawn alike) and ``plain`` take one signature; None
    where a difference is not a number of a layer (a binding to another argument, a nested block's first copy)."""
    p_args, v_args = {a.name: a for a in plain.args}, {a.name: a for a in variant.args}
    if list(p_args) != list(v_args):
        return None
    plan = _Plan(plain.name, variant.name)
    for name, arg in p_args.items():
        other = v_args[name]
        if not _same(arg.default, other.default) or not (arg.keyword and other.keyword):
            plan.required.add(name)
    p_id = {n.name: n.id for n in plain.graph.nodes}
    for v_node in variant.graph.nodes:
        if v_node.id == skip or v_node.type in ("Input", "Output"):
            continue
        p_node = plain.graph.node(p_id[v_node.name])
        if not _same(p_node.first_params, v_node.first_params):
            return None
        for param in sorted(v_node.params):
            bound = plain.bindings.get((p_node.id, param))
            if bound != variant.bindings.get((v_node.id, param)):
                return None
            a, b = p_node.params.get(param), v_node.params.get(param)
            if bound is not None or _same(a, b):
                continue
            name = _new_arg(
                plan, param, a, b, f"{v_node.name}_{param}", set(p_args) | {n.name for n in plain.graph.nodes}
            )
            plan.new_args[name][2].append((p_node.id, v_node.id, param))
    return plan if plan.new_args or plan.required else None


def _new_arg(plan: _Plan, param: str, a: Any, b: Any, longer: str, taken: set[str]) -> str:
    """The argument a parameter that differs (``a`` plain, ``b`` in the variant) becomes: one other layers whose
    ``param`` differs alike share, else ``param`` (``stride``) or, where that is taken, ``longer``."""
    for name, (x, y, places) in plan.new_args.items():
        if places[0][2] == param and _same((x, y), (a, b)):
            return name
    taken = taken | set(plan.new_args)
    name = param if param not in taken and not keyword_name(param) else longer
    while name in taken or keyword_name(name):
        name += "_"
    plan.new_args[name] = (a, b, [])
    return name


def _plans(graph: Graph, order: list[str]) -> list[tuple[_Plan, str]]:
    """Each variant that the merge would take but for its own numbers or defaults, with its shortcut's node."""
    direct = {name for nid in order for name in (graph.node(nid).block, graph.node(nid).first_block) if name}
    used = [graph.blocks[name] for name in dependency_order(graph.blocks, direct)]
    plans: list[tuple[_Plan, str]] = []
    paired: set[str] = set()
    for variant in used:
        hit = _find_shortcut(variant)
        if hit is None or variant.name in paired:
            continue
        reduced, attr = _shape(variant.graph, hit[0], values=False), variant.graph.node(hit[0]).name
        for plain in used:
            if plain is variant or plain.name in paired or _find_shortcut(plain) is not None:
                continue
            if attr in {n.name for n in plain.graph.nodes} or _shape(plain.graph, values=False) != reduced:
                continue
            plan = _plan(plain, variant, hit[0])
            if plan is not None:
                plans.append((plan, hit[0]))
                paired |= {plain.name, variant.name}
            break
    return plans


def aligned_variants(graph: Graph, order: list[str]) -> tuple[Graph, set[str]] | None:
    """A copy of ``graph`` in which each variant that differs from its plain definition by numbers fixed in its
    layers or by its arguments' defaults, not only by its shortcut, takes one signature with it: a fixed number
    becomes an argument of both (``stride``, the plain value its default) and an argument whose default differs
    has none (``out_channels``: torchvision's ``planes`` has none). Every instance keeps its numbers, so the
    layers, their weights' names and the outputs are the same. With the names of those variants; None: none."""
    plans = _plans(graph, order)
    if not plans:
        return None
    new = graph.copy()
    for plan, skip in plans:
        plain, variant = new.blocks[plan.plain], new.blocks[plan.variant]
        for defn, own in ((plain, 0), (variant, 1)):  # the same arguments; each its own defaults, to be drawn as is
            args = [BlockArg(a.name, a.default, a.keyword and a.name not in plan.required) for a in defn.args]
            args += [BlockArg(name, found[own], True) for name, found in plan.new_args.items()]
            defn.args = copy.deepcopy(args)
        for name, (_, _, places) in plan.new_args.items():
            for p_id, v_id, param in places:
                plain.bindings[(p_id, param)] = variant.bindings[(v_id, param)] = name
        p_nodes = {n.name: n for n in plain.graph.nodes}
        for v_node in variant.graph.nodes:  # as drawn, the plain definition's numbers (an instance sets its own)
            if v_node.id != skip and v_node.type != "Output":
                v_node.params = copy.deepcopy(p_nodes[v_node.name].params)
        for old_graph, new_graph in _graphs(graph, new):
            _instances(old_graph, new_graph, plan)
    if not all(_kept(graph, new, plan) for plan, _ in plans):
        return None
    return new, {plan.variant for plan, _ in plans}


def _instances(old_graph: Graph, new_graph: Graph, plan: _Plan) -> None:
    """The variant's instances in ``new_graph`` given the new arguments' values, explicitly where a default
    would now say otherwise."""
    variant = new_graph.blocks[plan.variant]
    defaults = {a.name: a.default for a in variant.args}
    for node in old_graph.nodes:
        if plan.variant not in (node.block, node.first_block):
            continue
        fresh = new_graph.node(node.id)
        extra = {name: b for name, (_, b, _) in plan.new_args.items()}
        if node.block == plan.variant:
            _, later = instance_at(old_graph, node, min(1, node.repeat - 1))
            values = {**later, **extra}
            fresh.params = {k: v for k, v in values.items() if k in node.params or not _same(v, defaults[k])}
        if node.first_block == plan.variant or (node.block == plan.variant and not node.first_block):
            _, first = instance_at(old_graph, node, 0)
            values = {**first, **extra}
            given = {k: fresh.params.get(k, defaults[k]) for k in defaults}
            fresh.first_params = {k: v for k, v in values.items() if k in node.first_params or not _same(v, given[k])}


def _kept(old: Graph, new: Graph, plan: _Plan) -> bool:
    """Whether every instance in ``new`` takes the numbers it took in ``old`` (a variant's new arguments its own,
    the plain one's their defaults)."""
    for old_graph, new_graph in _graphs(old, new):
        for node in old_graph.nodes:
            if node.block is None:
                continue
            for index in range(min(node.repeat, 2)):
                defn, values = instance_at(old_graph, node, index)
                if defn.name in (plan.plain, plan.variant):
                    own = 1 if defn.name == plan.variant else 0
                    values = {**values, **{name: found[own] for name, found in plan.new_args.items()}}
                if not _same(instance_at(new_graph, new_graph.node(node.id), index)[1], values):
                    return False
    return True


def _graphs(old: Graph, new: Graph) -> list[tuple[Graph, Graph]]:
    """The network's graph and each definition's, with their copies."""
    return [(old, new), *((old.blocks[name].graph, new.blocks[name].graph) for name in old.blocks)]
