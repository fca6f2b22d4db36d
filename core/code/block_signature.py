"""What a block's class takes: its constructor's arguments in order (``signature``), worked out by writing its
layers once as its defaults make them (``class_context``), and whether it is a class at all or a chain written
inline as ``nn.Sequential`` (``inline``). An instance's call (``core.code.codegen_blocks``) needs these, and the
class's text (``core.code.block_classes``) too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from core.code.block_names import arg_names
from core.model.analysis import analyze
from core.model.blocks import BlockDef, concrete_graph
from core.model.catalog import get_spec
from core.model.names import MODULE_ATTRIBUTES, NameAllocator, module_attribute

if TYPE_CHECKING:
    from core.code.codegen_blocks import Context

REQUIRED = object()


def is_chain(defn: BlockDef) -> bool:
    """One Input, one Output, and the layers between them in a single line of modules."""
    return bool(defn.ports == (1, 1) and chain_order(defn))


def chain_order(defn: BlockDef) -> list[str]:
    g = defn.graph
    if defn.ports != (1, 1):
        return []
    current, end = defn.input_ids[0], defn.output_ids[0]
    path: list[str] = []
    while True:
        consumers = g.consumers(current)
        if len(consumers) != 1:
            return []
        current = consumers[0].dst
        if current == end:
            break
        node = g.node(current)
        spec = node.spec
        # nn.Sequential calls each module on its input: a layer written through its template (a learned tensor's
        # expand) or returning a state is no such module
        if node.block is None and (spec is None or not spec.torch_class or spec.returns_state or spec.forward_template):
            return []
        if node.block is not None and (node.input_count(), node.output_count()) != (1, 1):
            return []
        path.append(current)
    return path if path and len(path) == len(g) - 2 else []


# --- classes ---------------------------------------------------------------------------------------------------
# Signatures are remembered only during one generation (``signature_memo``), never across: a definition is edited
# in place (a shape, a layer, an argument), and a signature kept from before the edit made the next code wrong (a
# chain that gained an auto argument was still written inline, naming an argument nobody passed).
# id(defn) -> (defn, its signature, its auto values' argument names, whether some auto value is written as the one
# number every instance takes); holding defn keeps its id from being reused while the memo lives.
_Found = tuple[list[tuple[str, Any, Any]], dict[Any, str], bool]
_MEMO: ContextVar[dict[int, tuple[BlockDef, _Found]] | None] = ContextVar("codegen_blocks_signatures", default=None)


@contextmanager
def signature_memo() -> Iterator[None]:
    """Remember signatures for the duration of one code generation (nested uses share the outer one)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def class_context(defn: BlockDef) -> tuple[Context, dict[str, str]]:
    """The block's layers written once as its defaults make them, each with its argument names where one applies
    (attribute and node id -> expression); the context says which arguments they read."""
    # here, not above: core.code.codegen_blocks imports this module (an instance's call needs its signature)
    from core.code.codegen_blocks import BlockCodeError, Context, module_expr

    graph = concrete_graph(defn, {a.name: a.default for a in defn.args}, [], [])  # as its defaults make it
    analysis = analyze(graph)
    if not analysis.ok:
        problems = "; ".join(p.message for p in analysis.errors[:3])
        raise BlockCodeError(f"Block {defn.name} has problems to fix before code can be generated: {problems}")
    count = len(defn.input_ids)
    names: list[str | None] = ["in_channels" if count == 1 else f"in_channels{i + 1}" for i in range(count)]
    ctx = Context(graph, analysis, arg_names(defn), names, defn.bindings, block=defn.name)
    attrs = NameAllocator(MODULE_ATTRIBUTES)
    exprs: dict[str, str] = {}
    for nid in analysis.order:
        node = graph.node(nid)
        if node.block is not None or get_spec(node.type).torch_class is not None:
            exprs[module_attribute(attrs, node.name, node.key, "layer") + "\0" + nid] = module_expr(ctx, nid)
    return ctx, exprs


def signature(defn: BlockDef) -> list[tuple[str, Any, Any]]:
    """The constructor's arguments in order: ("chan", port, REQUIRED), ("arg", name, REQUIRED), ("extra", (node,
    param), REQUIRED), ("arg", name, default). An instance passes the extras by name (``extra_names``): what
    ``fc_in_features=120`` sets is read where the block is used."""
    return _found(defn)[0]


def extra_names(defn: BlockDef) -> dict[Any, str]:
    """The argument name of each ("extra", key) of ``signature``."""
    return _found(defn)[1]


def has_fixed_values(defn: BlockDef) -> bool:
    """Whether the class writes an auto value as the one number all its instances take (``core.code.block_values``):
    another definition's instances, given this class, might not take it."""
    return _found(defn)[2]


def _found(defn: BlockDef) -> _Found:
    memo = _MEMO.get()
    cached = memo.get(id(defn)) if memo is not None else None
    if cached is not None and cached[0] is defn:
        return cached[1]
    ctx, exprs = class_context(defn)
    text = "\n".join(exprs.values())  # an input's channels are an argument only where a layer reads them
    used = [i for i, name in enumerate(ctx.in_chan) if name and re.search(rf"(?<![\w.]){name}\b(?!=)", text)]
    sig: list[tuple[str, Any, Any]] = [("chan", i, REQUIRED) for i in used]
    sig += [("arg", a.name, REQUIRED) for a in defn.args if not a.keyword]
    sig += [("extra", k, REQUIRED) for k in ctx.extra]
    sig += [("arg", a.name, a.default) for a in defn.args if a.keyword]
    found: _Found = (sig, dict(ctx.extra), bool(ctx.fixed))
    if memo is not None:
        memo[id(defn)] = (defn, found)
    return found


def inline(defn: BlockDef) -> bool:
    """Written as ``nn.Sequential(...)`` where used instead of as a class of its own."""
    if not is_chain(defn):
        return False
    # nn.Sequential numbers its children: an imported chain whose keys say otherwise keeps its class; one whose
    # keys are those numbers (an nn.ModuleList called in turn: ``h.0.attn``) needs none
    keys = [defn.graph.node(nid).key for nid in chain_order(defn)]
    if any(key is not None and key != str(i) for i, key in enumerate(keys)):
        return False
    if defn.as_class and any(key is None for key in keys):
        return False
    # a chain drawn in the app whose auto numbers all its instances share keeps the class it had while they were
    # arguments: inline, its state_dict keys would change (``part1.encoder1`` -> ``part1.0``) and a run's weights
    # would no longer load into the project's code
    if has_fixed_values(defn) and any(key is None for key in keys):
        return False
    return not any(kind == "extra" for kind, _, _ in signature(defn))
