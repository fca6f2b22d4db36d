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

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from core.model.blocks import BlockDef
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


def _shape(g: Graph, skip: str | None = None) -> tuple[frozenset, frozenset]:
    """A drawing as names, kinds, parameters and wires, with ``skip`` taken out and its wire joined up."""
    name = {n.id: n.name for n in g.nodes}
    nodes = frozenset(
        (n.name, n.type, repr(sorted(n.params.items())), n.block, n.repeat, n.first_block, n.key, n.trainable)
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
    if [(a.name, a.default, a.keyword) for a in plain.args] != [(a.name, a.default, a.keyword) for a in variant.args]:
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

    ours, theirs = signature(plain), signature(variant)
    fixed = has_fixed_values(plain) or has_fixed_values(variant)
    return ours == theirs and all(kind != "extra" for kind, _, _ in ours) and not fixed


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
