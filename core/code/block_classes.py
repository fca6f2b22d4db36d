"""The class a block definition becomes: which definitions need one (a plain chain is written inline as
``nn.Sequential`` instead) and the text of ``class Name(nn.Module)`` with its typed constructor.

The expressions inside (channels that follow the input, arguments) come from ``core.code.codegen_blocks``.
"""

from __future__ import annotations

from typing import Any

from core.code.block_names import arg_names, class_name
from core.code.block_shortcut import optional_argument
from core.code.block_signature import REQUIRED, class_context, inline, signature
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
    lines = [f"class {class_name(defn)}(nn.Module):"]
    about = f'    """{defn.description}"""'
    plain = defn.description.isprintable() and '"' not in defn.description and "\\" not in defn.description
    if defn.description and plain and len(about) <= 88:
        lines += [about, ""]
    shortcut = optional_argument(defn)  # a variant passes its shortcut layer in (torchvision's downsample)
    if shortcut is not None:
        params.append(f"{shortcut.attr}: nn.Module | None = None")
    lines += call_lines("    ", "def __init__", params, " -> None:")
    lines.append("        super().__init__()")
    attr_of: dict[str, str] = {}
    for key, expr in exprs.items():
        attr, nid = key.split("\0")
        attr_of[nid] = attr
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


def _hint(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (list, tuple)):
        return "tuple[int, ...]"
    return type(value).__name__ if isinstance(value, (int, float, str)) else "int"
