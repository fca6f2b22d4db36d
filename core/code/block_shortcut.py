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


# numbers the two may fix differently and still be one class: a stage's first block strides (torchvision's
# ``stride``); a kernel size or padding edited in one definition makes two blocks, as the user drew them
_MERGED_NUMBERS = frozenset({"stride"})
# parameters whose argument is a count of channels: no default in the class (torchvision's ``planes`` has none)
_CHANNELS = frozenset({"out_channels", "out_features", "embedding_dim", "hidden_size"})


@dataclass
class _Plan:
    """The signature a plain definition and its variant take: each argument with the plain default, the
    variant's and whether it is a keyword; the bindings each side gains (side, node, parameter, argument); and
    per side the arguments it gains, with the number its layers had fixed (its default: its instances keep it)."""

    plain: str
    variant: str
    args: dict[str, tuple[Any, Any, bool]] = field(default_factory=dict)
    bind: list[tuple[int, str, str, str]] = field(default_factory=list)
    added: tuple[dict[str, Any], dict[str, Any]] = field(default_factory=lambda: ({}, {}))
    made: dict[str, str] = field(default_factory=dict)  # an argument neither had -> the parameter it sets


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, default=repr, sort_keys=True) == json.dumps(b, default=repr, sort_keys=True)  # 1 is not 1.0


def _plan(plain: BlockDef, variant: BlockDef, skip: str) -> _Plan | None:
    """How ``variant`` (``plain`` plus the shortcut ``skip``, drawn alike) and ``plain`` take one signature: a
    number one side fixes where the other reads an argument becomes that argument there too, one both fix
    differently a new argument. None where nothing changes, or where a difference is no number of a layer (two
    arguments for one parameter, a nested block's first copy)."""
    sides = (plain, variant)
    have = [{a.name: a for a in d.args} for d in sides]
    plan = _Plan(plain.name, variant.name)
    p_id = {n.name: n.id for n in plain.graph.nodes}
    taken = set(have[0]) | set(have[1]) | {n.name for n in plain.graph.nodes}
    for v_node in variant.graph.nodes:
        if v_node.id == skip or v_node.type in ("Input", "Output"):
            continue
        p_node = plain.graph.node(p_id[v_node.name])
        if not _same(p_node.first_params, v_node.first_params):
            return None
        ids = (p_node.id, v_node.id)
        for param in sorted(set(p_node.params) | set(v_node.params)):
            bound = [sides[s].bindings.get((ids[s], param)) for s in (0, 1)]
            values = (p_node.params.get(param), v_node.params.get(param))
            if bound[0] is not None and bound[1] is not None:
                if bound[0] != bound[1]:
                    return None
            elif bound[0] is None and bound[1] is None:
                if not _same(*values) and param not in _MERGED_NUMBERS:  # another layer: two blocks, as drawn
                    return None
                if not _same(*values):
                    name = _new_arg(plan, param, values, f"{v_node.name}_{param}", taken)
                    plan.bind += [(0, ids[0], param, name), (1, ids[1], param, name)]
            else:
                side = 0 if bound[0] is None else 1  # the side with a number here
                name = str(bound[1 - side])
                if name in have[side] or not _same(plan.added[side].get(name, values[side]), values[side]):
                    return None
                plan.added[side][name] = values[side]
                plan.bind.append((side, ids[side], param, name))
    if set(have[0]) | set(plan.added[0]) != set(have[1]) | set(plan.added[1]):
        return None
    bound_to = {arg for d in sides for (_, param), arg in d.bindings.items() if param in _CHANNELS}
    bound_to |= {arg for _, _, param, arg in plan.bind if param in _CHANNELS}
    changed = any(plan.added)
    for name in [*have[0], *(n for n in have[1] if n not in have[0]), *plan.made]:
        defaults = [have[s][name].default if name in have[s] else plan.added[s][name] for s in (0, 1)]
        keyword = all(have[s][name].keyword for s in (0, 1) if name in have[s])
        keyword = keyword and name not in bound_to  # a default that differs: the variant's call passes its own
        changed = changed or any(name in have[s] and have[s][name].keyword != keyword for s in (0, 1))
        plan.args[name] = (defaults[0], defaults[1], keyword)
    return plan if changed else None


def _new_arg(plan: _Plan, param: str, values: tuple[Any, Any], longer: str, taken: set[str]) -> str:
    """The argument a parameter both sides fix differently becomes: one other layers whose ``param`` differs
    alike share, else ``param`` (``stride``) or, where that is taken, ``longer``."""
    for name, made in plan.made.items():
        if made == param and _same((plan.added[0][name], plan.added[1][name]), values):
            return name
    taken = taken | set(plan.made)
    name = param if param not in taken and not keyword_name(param) else longer
    while name in taken or keyword_name(name):
        name += "_"
    plan.made[name] = param
    plan.added[0][name], plan.added[1][name] = values
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
    layers or by its arguments' defaults, not only by its shortcut, takes one signature with it: a number fixed
    differently becomes an argument of both (``stride``, the plain value its default), and an argument whose
    default differs, or that sets a count of channels, has none (``out_channels``: the first instance's number is
    no default; torchvision's ``planes`` has none). Every instance keeps its numbers, so the layers, their
    weights' names and the outputs are the same. The merged class takes the shorter name of the two
    (``Bottleneck``, not ``Bottleneck2``). With the names of the variants written through it; None: none."""
    plans = _plans(graph, order)
    if not plans:
        return None
    new = graph.copy()
    for plan, skip in plans:
        sides = (new.blocks[plan.plain], new.blocks[plan.variant])
        for side, defn in enumerate(sides):  # each its own defaults: its drawing stays valid as it is
            defn.args = [BlockArg(n, copy.deepcopy(found[side]), found[2]) for n, found in plan.args.items()]
        for side, nid, param, name in plan.bind:
            sides[side].bindings[(nid, param)] = name
        p_nodes = {n.name: n for n in sides[0].graph.nodes}
        for v_node in sides[1].graph.nodes:  # drawn alike: the bound numbers are set by each instance
            if v_node.id != skip and v_node.type != "Output":
                v_node.params = copy.deepcopy(p_nodes[v_node.name].params)
    if not all(_kept(graph, new, plan) for plan, _ in plans):
        return None
    variants = set()
    for plan, _ in plans:
        if len(plan.variant) < len(plan.plain):
            _swap_names(new, plan.plain, plan.variant)
            variants.add(plan.plain)
        else:
            variants.add(plan.variant)
    return new, variants


def _kept(old: Graph, new: Graph, plan: _Plan) -> bool:
    """Whether every instance in ``new`` takes the numbers it took in ``old``, and those its side gained."""
    for old_graph, new_graph in _graphs(old, new):
        for node in old_graph.nodes:
            if node.block is None:
                continue
            for index in range(min(node.repeat, 2)):
                defn, values = instance_at(old_graph, node, index)
                if defn.name in (plan.plain, plan.variant):
                    values = {**values, **plan.added[defn.name == plan.variant]}
                if not _same(instance_at(new_graph, new_graph.node(node.id), index)[1], values):
                    return False
    return True


def _swap_names(graph: Graph, a: str, b: str) -> None:
    """Definitions ``a`` and ``b`` trade names, in the library and in every instance."""
    swap = {a: b, b: a}
    library = graph.blocks
    first, second = library.pop(a), library.pop(b)
    first.name, second.name = b, a
    library[b], library[a] = first, second
    for g in [graph, *(d.graph for d in library.values())]:
        for node in g.nodes:
            node.block = swap.get(node.block, node.block) if node.block else node.block
            node.first_block = swap.get(node.first_block, node.first_block) if node.first_block else node.first_block


def _graphs(old: Graph, new: Graph) -> list[tuple[Graph, Graph]]:
    """The network's graph and each definition's, with their copies."""
    return [(old, new), *((old.blocks[name].graph, new.blocks[name].graph) for name in old.blocks)]
