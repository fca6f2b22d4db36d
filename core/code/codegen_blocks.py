"""Code for block instances: one class per definition, written before ``Net`` the way a person would write it.

A class's constructor arguments are the block's input channels (every auto-filled channel parameter inside
follows them: ``nn.BatchNorm2d(out_channels)``), its exposed arguments (``stride: int = 1``) and, for an auto
value that does not follow the input channels (a Linear after a Flatten), an argument of its own named after the
layer (``fc_in_features``). A block whose layers form a plain chain is written inline as ``nn.Sequential`` with
numbered children (``downsample.0.weight``, as torchvision names it); a repeat ×N is ``nn.Sequential`` of N
instances. Expressions are computed in a ``Context``: in ``Net`` every value is a literal from the analysis, in
a class it is the name of an argument where one applies. The text of a class (``class_lines``) and which
definitions need one are ``core.code.block_classes``; the names of classes and arguments ``core.code.block_names``;
a class's arguments and whether a chain is written inline ``core.code.block_signature``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.code.block_names import IN_CHANNELS, arg_names, bound_names, class_name
from core.code.block_shortcut import shortcut_of
from core.code.block_signature import REQUIRED, chain_order, extra_names, inline, signature
from core.code.block_values import ENTERING, NOT_ONE, extra_value, one_value
from core.errors import GraphError
from core.model.analysis import Analysis
from core.model.blocks import instance_at
from core.model.catalog import LayerSpec, get_spec
from core.model.graph import Graph
from core.model.node import Node

# parameters that set the channels (dim 1) a layer puts out
CHANNEL_OUT = ("out_channels", "out_features", "embedding_dim", "hidden_size")
# auto parameters that read dim 1 of any input (channels first); others follow dim 1 only of an [N, F] input
CHANNEL_FIRST = frozenset({"in_channels", "num_features", "num_channels"})
# layer groups whose output keeps the input's channels
PASS_CHANNELS = frozenset({"Activation", "Normalization", "Pooling", "Dropout"})


class BlockCodeError(GraphError):
    pass


@dataclass
class Context:
    graph: Graph
    analysis: Analysis
    args: dict[str, str] | None = None  # argument -> expression; None: literal values everywhere (in Net)
    in_chan: list[str | None] = field(default_factory=list)  # channel expression of each Input port
    bindings: dict[tuple[str, str], str] = field(default_factory=dict)
    extra: dict[tuple[str, str], str] = field(default_factory=dict)  # auto values that became arguments
    memo: dict[tuple[str, int], str | None] = field(default_factory=dict)
    block: str | None = None  # the definition whose class this is (None: Net)
    fixed: set[tuple[str, str]] = field(default_factory=set)  # auto values written as the one number all take

    @property
    def symbolic(self) -> bool:
        return self.args is not None


def literal(value: Any) -> str:
    # here, not above: core.code.codegen imports this module (cycle)
    from core.code.codegen import literal as lit

    return lit(value)


def chan(ctx: Context, nid: str, port: int = 0) -> str | None:
    """The channels (dim 1) of a node's output as an expression, or None when nothing simple says it."""
    key = (nid, port)
    if key not in ctx.memo:
        ctx.memo[key] = _chan(ctx, nid, port)
    return ctx.memo[key]


def _chan(ctx: Context, nid: str, port: int) -> str | None:
    info = ctx.analysis.nodes.get(nid)
    shape = info.port_shape(port) if info else None
    if not ctx.symbolic:
        return literal(shape[1]) if shape is not None and len(shape) > 1 and shape[1] is not None else None
    node = ctx.graph.node(nid)
    if node.type == "Input":
        index = [n.id for n in ctx.graph.nodes_of_type("Input")].index(nid)
        if index < len(ctx.in_chan) and ctx.in_chan[index] is not None:
            return ctx.in_chan[index]
        return None
    if node.block is not None:  # through the definition of its last copy, else its out_channels argument
        found = _leaving(ctx, node, node.repeat - 1) if port == 0 and info and info.inner else None
        _, values = instance_at(ctx.graph, node, node.repeat - 1)
        if found is None and shape is not None and len(shape) > 1 and values.get("out_channels") == shape[1]:
            return _instance_arg_expr(ctx, node, node.repeat - 1, "out_channels")
        return found
    spec = node.spec
    if spec is None or info is None or shape is None or len(shape) < 2:
        return None
    for name in CHANNEL_OUT:  # out_channels is dim 1 at any rank; out_features only on [N, F]
        if spec.has_param(name) and (name == "out_channels" or len(shape) == 2) and info.params[name] == shape[1]:
            return param_expr(ctx, nid, name) or literal(info.params[name])
    wires = ctx.graph.inputs_of(nid)
    first = info.in_shapes[0] if info.in_shapes else None
    keeps = spec.category in PASS_CHANNELS or spec.id in ("Add", "Multiply", "Identity", "ZeroPad2d")
    same = first is not None and len(first) == len(shape) and first[1] == shape[1]
    if keeps and same and wires and wires[0] is not None:
        return chan(ctx, wires[0].src, wires[0].src_port)
    if spec.id == "Chunk" and info.params["dim"] == 1 and first and wires and wires[0] is not None:
        whole = chan(ctx, wires[0].src, wires[0].src_port)  # x.chunk(2, dim=1)[0]: the channels / 2
        if whole is not None and int(first[1] or 0) % info.params["chunks"] == 0:
            return f"{whole} // {info.params['chunks']}"
    return None


def param_expr(ctx: Context, nid: str, param: str) -> str | None:
    """A parameter's expression in a class (an argument's name), or None: write the literal value."""
    if not ctx.symbolic or ctx.args is None:
        return None
    bound = ctx.bindings.get((nid, param))
    if bound is not None and bound in ctx.args:
        return ctx.args[bound]
    info = ctx.analysis.nodes[nid]
    if param not in info.auto:
        return None
    wire = ctx.graph.inputs_of(nid)[0]
    source = ctx.analysis.nodes.get(wire.src) if wire else None
    in_shape = source.port_shape(wire.src_port) if source and wire else None
    follows = in_shape is not None and len(in_shape) > 1 and info.auto[param] == in_shape[1]
    if wire and in_shape is not None and follows and (len(in_shape) == 2 or param in CHANNEL_FIRST):
        found = chan(ctx, wire.src, wire.src_port)
        if found is not None:
            return found
    name = ctx.extra.get((nid, param))
    if name is None:
        same = _one(ctx, nid, param)
        if same is not None:
            return same
        name = ctx.extra[(nid, param)] = _free(ctx, f"{_label(ctx.graph.node(nid))}_{param}")
    return name


def _one(ctx: Context, nid: str, param: str) -> str | None:
    """The number every instance of the class takes for an auto value, written as it is (``core.code.block_values``);
    None where they differ: then it is an argument."""
    value = one_value(ctx.block, nid, param)
    if value is NOT_ONE:
        return None
    ctx.fixed.add((nid, param))
    return literal(value)


def layer_args(spec: LayerSpec, params: dict[str, Any], exprs: dict[str, str]) -> list[str]:
    """Like ``core.code.codegen.constructor_args``, with argument names where a parameter follows one."""
    args = [exprs.get(p.name) or literal(params[p.name]) for p in spec.params if p.positional and p.codegen]
    for p in spec.params:
        if p.positional or not p.codegen:
            continue
        value = params.get(p.name, p.default)
        if p.name in exprs:
            args.append(f"{p.name}={exprs[p.name]}")
        elif value != p.default or p.always:
            args.append(f"{p.name}={literal(value)}")
    args.extend(f"{key}={literal(value)}" for key, value in spec.extra_args)
    return args


def module_expr(ctx: Context, nid: str) -> str:
    """The constructor expression of one node: ``nn.Conv2d(...)``, ``BasicBlock(...)``, ``nn.Sequential(...)``."""
    node = ctx.graph.node(nid)
    if node.block is not None:
        return instance_expr(ctx, node)
    spec = get_spec(node.type)
    info = ctx.analysis.nodes[nid]
    exprs = {p.name: e for p in spec.params if (e := param_expr(ctx, nid, p.name)) is not None}
    return f"{spec.torch_class}({', '.join(layer_args(spec, info.params, exprs))})"


def _instance_arg_expr(ctx: Context, node: Node, index: int, arg: str) -> str | None:
    defn, values = instance_at(ctx.graph, node, index)
    if defn.arg(arg) is None:
        return None
    if ctx.symbolic and ctx.args is not None and not (index == 0 and arg in node.first_params):
        bound = ctx.bindings.get((node.id, arg))
        if bound is not None and bound in ctx.args:
            return ctx.args[bound]
    return literal(values[arg])


def instance_expr(ctx: Context, node: Node) -> str:
    parts = [_copy_expr(ctx, node, index) for index in range(node.repeat)]
    return parts[0] if node.repeat == 1 else f"nn.Sequential({', '.join(parts)})"


def _copy_args(ctx: Context, node: Node, index: int) -> dict[str, str]:
    """Each argument of copy ``index`` as an expression in ``ctx``."""
    defn, values = instance_at(ctx.graph, node, index)
    return {a.name: _instance_arg_expr(ctx, node, index, a.name) or literal(values[a.name]) for a in defn.args}


def _entering(ctx: Context, node: Node, index: int) -> list[str | None]:
    """The channels entering copy ``index`` of an instance, per input port: for the first copy those of its
    sources; for a later one those leaving the copy before it, worked out through that copy's definition (so a
    repeated block whose channels follow its input stays right for every instance of the class it sits in)."""
    info = ctx.analysis.nodes[node.id]
    if index == 0:
        return [
            (chan(ctx, wire.src, wire.src_port) or (None if ctx.symbolic else _entering_literal(ctx, node, port)))
            if wire is not None
            else None
            for port, wire in enumerate(ctx.graph.inputs_of(node.id))
        ]
    found = _leaving(ctx, node, index - 1) or _instance_arg_expr(ctx, node, index - 1, "out_channels")
    if found is None:
        defn, _ = instance_at(ctx.graph, node, index - 1)
        shape = info.inner[index - 1][1].shape(defn.output_ids[0])
        found = literal(shape[1]) if shape and len(shape) > 1 and shape[1] is not None else None
    return [found]


def _leaving(ctx: Context, node: Node, index: int) -> str | None:
    """The channels leaving copy ``index`` (its first output), worked out through its definition; None: unknown."""
    defn, _ = instance_at(ctx.graph, node, index)
    inner_graph, inner = ctx.analysis.nodes[node.id].inner[index]
    args, entering = _copy_args(ctx, node, index), _entering(ctx, node, index)
    child = Context(inner_graph, inner, args, entering, defn.bindings, block=defn.name)
    if not ctx.symbolic:
        child.args = None
    wire = inner_graph.inputs_of(defn.output_ids[0])[0]
    return chan(child, wire.src, wire.src_port) if wire is not None else None


def _copy_expr(ctx: Context, node: Node, index: int) -> str:
    defn, values = instance_at(ctx.graph, node, index)
    info = ctx.analysis.nodes[node.id]
    inner_graph, inner = info.inner[index]
    in_chan = _entering(ctx, node, index)
    args = _copy_args(ctx, node, index)
    if inline(defn):  # an unknown number stays this instance's own: an inline chain has no arguments to pass it
        known = [c if c is not None or index else _entering_literal(ctx, node, port) for port, c in enumerate(in_chan)]
        child = Context(inner_graph, inner, args, known, defn.bindings, block=defn.name)
        children = [module_expr(child, nid) for nid in chain_order(defn)]
        return f"nn.Sequential({', '.join(children)})"
    sig = signature(defn)
    keywords = arg_names(defn)
    call: list[str] = []
    named: list[str] = []  # an auto value's argument is passed by its name, after the others: what it sets is read
    shortcut = shortcut_of(defn)
    for kind, key, default in sig:
        if kind == "chan":
            value = in_chan[key] if key < len(in_chan) else None
            if value is None and ctx.symbolic and index == 0:  # in a class: each instance's number, from its caller
                value = _entering_arg(ctx, node, key)
            if value is None:  # e.g. after a block whose output is a concatenation: this instance's own number
                value = _entering_literal(ctx, node, key)
            if value is None:
                raise BlockCodeError(f"{node.name}: the channels entering block {defn.name} are not known.", node.id)
            call.append(value)
        elif kind == "extra":
            named.append(f"{extra_names(defn)[key]}={_extra_call(ctx, node, index, key, inner_graph, inner)}")
        else:
            expr = args[key]
            if shortcut is not None and default is not REQUIRED:  # what the plain class it calls takes
                default = shortcut.plain.arg(key).default  # type: ignore[union-attr]
            if default is REQUIRED:
                call.append(expr)
            elif expr != literal(default):
                call.append(f"{keywords[key]}={expr}")
    call += named
    if shortcut is not None:  # the plain class, given this variant's shortcut layer (torchvision's downsample)
        child = Context(inner_graph, inner, args, in_chan, defn.bindings, block=defn.name)
        call.append(f"{shortcut.attr}={module_expr(child, shortcut.node_id)}")
        return f"{class_name(shortcut.plain)}({', '.join(call)})"
    return f"{class_name(defn)}({', '.join(call)})"


def _entering_arg(ctx: Context, node: Node, port: int) -> str:
    """Channels entering a nested block that nothing simple says (after a concatenation) become an argument of
    the class it sits in, as a plain layer's auto value does (``param_expr``): the first instance's number would
    be wrong for the others (a U-Net's up-blocks)."""
    key = (node.id, f"{ENTERING}{port}")
    same = _one(ctx, *key) if key not in ctx.extra else None
    if same is not None:
        return same
    if key not in ctx.extra:
        ctx.extra[key] = _free(ctx, f"{_label(node)}_in_channels")
    return ctx.extra[key]


def _extra_call(ctx: Context, node: Node, index: int, key: tuple[str, str], inner_graph: Graph, inner: Analysis) -> str:
    """The value for one of the block's auto arguments: in ``Net`` the number, inside another block's class an
    argument of that class (passed on from its caller: the number differs from one instance to the next)."""
    if not ctx.symbolic:
        return literal(extra_value(inner, *key))
    inner_id, param = key
    path = (node.id, f"\0{index}\0{inner_id}\0{param}")
    same = _one(ctx, *path) if path not in ctx.extra else None
    if same is not None:
        return same
    if path not in ctx.extra:
        word = param.rsplit(chr(0), 1)[-1]
        inner_name = _label(inner_graph.node(inner_id))
        base = f"{_label(node)}_{inner_name}_{'in_channels' if word.startswith(ENTERING) else word}"
        ctx.extra[path] = _free(ctx, base)
    return ctx.extra[path]


def _entering_literal(ctx: Context, node: Node, port: int) -> str | None:
    wires = ctx.graph.inputs_of(node.id)
    wire = wires[port] if port < len(wires) else None
    info = ctx.analysis.nodes.get(wire.src) if wire is not None else None
    shape = info.port_shape(wire.src_port) if info is not None and wire is not None else None
    return literal(shape[1]) if shape is not None and len(shape) > 1 and shape[1] is not None else None


def _label(node: Node) -> str:
    """A layer's name in an argument's: ``layer0`` for an imported nn.Sequential's ``0`` (its node is ``m_0``)."""
    return f"layer{node.key}" if node.key is not None and node.key.isdigit() else node.name


def _free(ctx: Context, base: str) -> str:
    """``base``, or ``base2``, ``base3``, ... : a name no argument of the class and nothing in the file has yet."""
    taken = set(ctx.extra.values()) | set((ctx.args or {}).values()) | IN_CHANNELS | bound_names()
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name
