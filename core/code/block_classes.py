"""The class a block definition becomes: which definitions need one (a plain chain is written inline as
``nn.Sequential`` instead) and the text of ``class Name(nn.Module)`` with its typed constructor.

The expressions inside (channels that follow the input, arguments) come from ``core.code.codegen_blocks``.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from core.code.block_names import arg_names, class_name
from core.code.block_shortcut import optional_argument
from core.code.block_signature import REQUIRED, class_context, inline, is_chain, signature
from core.code.codegen_blocks import BlockCodeError, Context, extra_value, literal
from core.code.line_wrap import call_lines
from core.model.blocks import BlockDef, dependency_order
from core.model.graph import Graph
from core.model.names import MODULE_ATTRIBUTES, NameAllocator


def used_definitions(graph: Graph, order: list[str]) -> list[BlockDef]:
    """The definitions that need a class for the nodes in ``order``, each after those it uses (chains written
    inline as ``nn.Sequential`` need none)."""
    direct: set[str] = set()
    for nid in order:
        node = graph.node(nid)
        direct |= {name for name in (node.block, node.first_block) if name is not None}
    names = dependency_order(graph.blocks, direct)
    users = [graph.node(nid) for nid in order] + [n for name in names for n in graph.blocks[name].graph.nodes]
    for node in users:
        outs = graph.blocks[node.block].ports[1] if node.block in graph.blocks else 1
        if node.repeat > 1 and outs > 1:
            raise BlockCodeError(
                f"{node.name} repeats block {node.block} ×{node.repeat}, but the block has {outs} outputs: "
                "a repeat chains one output into the next copy, so code cannot be generated for it; set the "
                "repeat to 1 and wire copies of the block by hand."
            )
    return [graph.blocks[n] for n in names if not inline(graph.blocks[n])]


def class_lines(defn: BlockDef, forward: Any) -> list[str]:
    """``class Name(nn.Module)`` with its ``__init__`` and ``forward`` (``forward`` writes the latter)."""
    from core.code.codegen import register_lines  # codegen imports this module

    ctx, exprs = class_context(defn)
    sig = signature(defn)
    names = arg_names(defn)
    params = ["self"]
    for kind, key, default in sig:
        if kind == "chan":
            params.append(f"{ctx.in_chan[key]}: int")
        elif kind == "extra":
            params.append(f"{ctx.extra[key]}: {_hint(extra_value(ctx.analysis, *key))}")
        elif default is REQUIRED:
            params.append(f"{names[key]}: {_hint(defn.arg(key).default)}")  # type: ignore[union-attr]
        else:
            params.append(f"{names[key]}: {_hint(default)} = {literal(default)}")
    shortcut = optional_argument(defn)  # a variant passes its shortcut layer in (torchvision's downsample)
    # (attribute, node id, expression), in the order they are registered
    registered = [(key.split("\0")[0], key.split("\0")[1], expr) for key, expr in exprs.items()]
    base = _numbered_base(defn, ctx, registered) if shortcut is None else None
    lines = [f"class {class_name(defn)}({base or 'nn.Module'}):"]
    lines += _docstring(defn.description)
    if shortcut is not None:
        params.append(f"{shortcut.attr}: nn.Module | None = None")
    lines += call_lines("    ", "def __init__", params, " -> None:")
    if base == "nn.Sequential":  # its own forward calls the layers in turn, as torchvision's MLPBlock
        return [*lines, *call_lines("        ", "super().__init__", [expr for _, _, expr in registered])]
    lines.append("        super().__init__()")
    attr_of: dict[str, str] = {}
    reused = {} if base else _called_again(ctx, registered)
    for attr, nid, expr in sorted(registered, key=lambda r: not r[0].isdigit()) if base else registered:
        if base is not None and attr.isdigit():  # an nn.ModuleList's numbered layers: self[0], as it numbers them
            attr_of[nid] = f"[{attr}]"
            lines += call_lines("        ", "self.append", [expr])
            continue
        attr_of[nid] = reused.get(nid, attr)
        if nid not in reused:
            lines += register_lines(attr, expr)
    if shortcut is not None:
        lines.append(f"        self.{shortcut.attr} = {shortcut.attr}")
    stored, reads = forward_arguments(ctx, set(attr_of.values()))
    lines += stored
    lines.append("")
    add = next((n.id for n in ctx.graph.nodes if shortcut and n.name == shortcut.add), None)
    where = (add, shortcut.port, shortcut.attr) if shortcut is not None and add is not None else None
    lines += forward(ctx.graph, ctx.analysis, attr_of, reads, where)
    return lines


def _called_again(ctx: Context, registered: list[tuple[str, str, str]]) -> dict[str, str]:
    """node id -> the attribute it calls instead of its own: an activation the import found called a second time
    (torch.fx names the call ``relu_1``, the module being ``relu``) is that module again, as torchvision's
    BasicBlock calls ``self.relu`` twice. It holds no weights, so the state_dict is the same either way."""
    exprs = {attr: expr for attr, _, expr in registered}
    found: dict[str, str] = {}
    for attr, nid, expr in registered:
        first = re.fullmatch(r"(\w+?)_\d+", attr)
        node = ctx.graph.node(nid)
        spec = node.spec if node.block is None else None
        stateless = spec is not None and spec.category == "Activation" and not ctx.analysis.nodes[nid].param_count
        if first and stateless and exprs.get(first[1]) == expr:
            found[nid] = first[1]
    return found


# a list's own methods, which an attribute of its subclass would hide
_LIST_METHODS = frozenset({"append", "extend", "insert", "pop", "index"})


def _numbered_base(defn: BlockDef, ctx: Context, registered: list[tuple[str, str, str]]) -> str | None:
    """The container an imported class with numbered layers (``mlp.0.weight``, an nn.Sequential or nn.ModuleList
    in the original) subclasses so that its code need not spell ``getattr(self, "0")``: ``nn.Sequential`` when
    they are all its layers, in a chain; ``nn.ModuleList`` (``self[0](x)`` in forward) when the other layers
    are stateless ones registered between them (a Tanh between a list's Linears) or come after them, so the
    state_dict keeps its order. None: a plain nn.Module."""
    attrs = [attr for attr, _, _ in registered]
    numbered = [attr for attr in attrs if attr.isdigit()]
    if not numbered or numbered != [str(i) for i in range(len(numbered))] or _LIST_METHODS & set(attrs):
        return None
    if len(numbered) == len(attrs) and is_chain(defn):
        return "nn.Sequential"
    last = attrs.index(numbered[-1])
    for attr, nid, _ in registered[:last]:
        node, info = ctx.graph.node(nid), ctx.analysis.nodes[nid]
        spec = node.spec if node.block is None else None
        stateless = spec is not None and spec.category in ("Activation", "Dropout", "Pooling") and not info.param_count
        if not attr.isdigit() and not stateless:
            return None
    return "nn.ModuleList"


def forward_arguments(ctx: Context, taken: set[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The arguments that layers written into ``forward`` read (a Permute's ``dims``, a Mean's ``dim``): the
    lines storing them in ``__init__`` (``self.dims = dims``, as torchvision stores ``self.stride``) and, per
    node, the expression its template takes instead of a number. ``forward`` is shared by every instance of the
    class, so a number there would be the one the block was drawn with, whatever the instance was given."""
    attrs = NameAllocator(MODULE_ATTRIBUTES | taken)
    attr_of: dict[str, str] = {}  # argument's name -> self.<attribute>
    lines: list[str] = []
    reads: dict[str, dict[str, str]] = {}
    for nid in ctx.analysis.order:
        node = ctx.graph.node(nid)
        spec = node.spec
        if node.block is not None or spec is None or not spec.forward_template or ctx.args is None:
            continue
        for param in spec.params:
            bound = ctx.bindings.get((nid, param.name))
            if bound not in ctx.args or "{" + param.name + "}" not in spec.forward_template:
                continue
            name = ctx.args[bound]
            if name not in attr_of:
                attr_of[name] = attrs.allocate(name, "arg")
                lines.append(f"        self.{attr_of[name]} = {name}")
            many = isinstance(ctx.analysis.nodes[nid].params[param.name], (list, tuple))  # a list reads as items
            reads.setdefault(nid, {})[param.name] = f"{'*' if many else ''}self.{attr_of[name]}"
    return lines, reads


def _docstring(text: str) -> list[str]:
    """The class's docstring, wrapped to the 88 columns ruff checks (with the blank line after it); none for a
    description that is empty, cannot be written between quotes, or holds a word too long for a line."""
    if not text or not text.isprintable() or '"' in text or "\\" in text:
        return []
    lines = textwrap.wrap(f'"""{text}"""', width=84, break_long_words=False, break_on_hyphens=False)
    if any(len(line) > 84 for line in lines):
        return []
    return [f"    {line}" for line in lines] + [""]


def _hint(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (list, tuple)):
        return "tuple[int, ...]"
    return type(value).__name__ if isinstance(value, (int, float, str)) else "int"
