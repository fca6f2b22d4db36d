"""Turns a valid graph into the source of a readable ``nn.Module``.

Lines are emitted one per layer by a small emitter per layer kind; every name goes through a fresh
``NameAllocator``; values are emitted from validated Python types only, so no project file can inject code.
The result carries a line -> node map so an error raised inside generated code can point at its node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.code.block_classes import class_lines, used_definitions
from core.code.block_names import code_names
from core.code.block_shortcut import aligned_variants, optional_shortcuts, shortcuts
from core.code.block_signature import signature_memo
from core.code.block_values import instance_values
from core.code.codegen_blocks import Context, instance_expr
from core.code.forward_names import ForwardNames
from core.code.line_wrap import assign_lines, call_lines, with_comment
from core.errors import GraphError
from core.model.analysis import Analysis, NodeInfo, analyze
from core.model.blocks import dependency_order
from core.model.catalog import LayerSpec, get_spec, helper_lines
from core.model.graph import Graph
from core.model.literal import CodegenError, literal  # defined below core.code (the layer kinds use it)
from core.model.names import MODULE_ATTRIBUTES, NameAllocator, module_attribute, module_level_names, module_ref
from core.model.node import Node
from core.model.shape_rules import fmt


@dataclass
class GeneratedCode:
    """Source text plus where each node's lines are (1-based line numbers)."""

    source: str
    class_name: str = "Net"
    line_to_node: dict[int, str] = field(default_factory=dict)
    attr_names: dict[str, str] = field(default_factory=dict)  # node id -> self.<attr>
    input_names: list[str] = field(default_factory=list)  # forward arguments, in Input-node order

    def node_at(self, line: int) -> str | None:
        return self.line_to_node.get(line)


def register_lines(attr: str, expr: str) -> list[str]:
    """``self.conv1 = expr``; a module whose name in the weights is not a Python name (regnet's ``block1-0``) is
    registered under that name with ``add_module``, as the original does, so its state_dict loads unchanged."""
    if attr.isidentifier():
        return assign_lines(f"self.{attr} = ", expr)
    return call_lines("        ", "self.add_module", [json.dumps(attr), expr])


def constructor_args(spec: LayerSpec, params: dict[str, Any]) -> list[str]:
    """Positional parameters first, then keywords that differ from torch's default, then fixed extras."""
    args = [literal(params[p.name]) for p in spec.params if p.positional and p.codegen]
    for p in spec.params:
        if p.positional or not p.codegen:
            continue
        value = params.get(p.name, p.default)
        if value != p.default or p.always:
            args.append(f"{p.name}={literal(value)}")
    args.extend(f"{key}={literal(value)}" for key, value in spec.extra_args)
    return args


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line_to_node: dict[int, str] = {}

    def add(self, lines: list[str] | str, node_id: str | None = None, comment: str = "") -> None:
        items = with_comment([lines] if isinstance(lines, str) else list(lines), comment)
        for line in items:
            self.lines.append(line)
            if node_id is not None:
                self.line_to_node[len(self.lines)] = node_id


def _template_value(value: Any) -> str:
    """A parameter as a forward template reads it: a list parameter as its comma-separated items."""
    if isinstance(value, (list, tuple)):
        return ", ".join(literal(v) for v in value)
    return literal(value)


def _module(attr: str) -> str:
    """``self.conv1``; ``self[0]`` for a numbered layer of a class that is an nn.ModuleList (``[0]``: see
    ``core.code.block_classes``)."""
    return f"self{attr}" if attr.startswith("[") else module_ref(attr)


def _expression(
    node: Node, attr: str | None, args: list[str], params: dict[str, Any], reads: dict[str, str] | None = None
) -> str:
    """The right-hand side of a node's forward line: its module call, or its catalog ``forward_template``
    (``reads``: parameters that a block's class takes from ``self`` instead of writing their number)."""
    if node.block is not None:  # a block's forward takes every input and returns a tuple if it has several outputs
        return f"{_module(str(attr))}({', '.join(args)})"
    template = get_spec(node.type).forward_template  # a module's template calls it as {module} (attention)
    if attr is not None and not template:
        return f"{_module(attr)}({args[0]})"
    if not template:
        raise CodegenError(f"No code template for layer type {node.type}.", node.id)  # pragma: no cover
    values = {name: _template_value(value) for name, value in params.items()}
    values.update(reads or {})
    values.update(
        x=args[0], args=", ".join(args), sum=" + ".join(args), product=" * ".join(args), module=_module(str(attr))
    )
    return template.format(**values)


def check_ok(analysis: Analysis) -> None:
    """Refuse, listing the problems, a network whose code cannot be generated."""
    if not analysis.ok:
        listing = "\n".join(f"- {p.message}" for p in analysis.errors)
        raise CodegenError(f"The network has problems to fix before code can be generated:\n{listing}")


def attribute_names(graph: Graph, analysis: Analysis) -> dict[str, str]:
    """node id -> the ``Net`` attribute it becomes (``conv1``; a block's ``layer1``), as ``model_lines`` names
    them: what ``model.get_submodule`` takes."""
    return _module_attributes(analysis.order, {nid: graph.node(nid) for nid in analysis.order})


def _module_attributes(order: list[str], nodes: dict[str, Node]) -> dict[str, str]:
    """node id -> ``self.<attr>`` name, for every node that is a torch module."""
    attrs = NameAllocator(MODULE_ATTRIBUTES)
    attr_of: dict[str, str] = {}
    for nid in order:
        if nodes[nid].block is not None:
            attr_of[nid] = module_attribute(attrs, nodes[nid].name, nodes[nid].key, "block")
            continue
        spec = get_spec(nodes[nid].type)
        if spec.torch_class is not None:  # an imported nn.Sequential's layers keep their numbers ("0", "2")
            attr_of[nid] = module_attribute(attrs, nodes[nid].name, nodes[nid].key, spec.name_prefix)
    return attr_of


def _emit_init(
    out: _Emitter,
    class_name: str,
    nodes: dict[str, Node],
    attr_of: dict[str, str],
    analysis: Analysis,
    graph: Graph,
) -> None:
    listed = _numbered(attr_of)
    out.add(f"class {class_name}({'nn.ModuleList' if listed else 'nn.Module'}):")
    out.add("    def __init__(self) -> None:")
    out.add("        super().__init__()")
    for nid, attr in attr_of.items():
        if nodes[nid].block is not None:
            expr = instance_expr(Context(graph, analysis), nodes[nid])
            out.add(call_lines("        ", "self.append", [expr]) if listed else register_lines(attr, expr), nid)
            continue
        spec = get_spec(nodes[nid].type)
        args = constructor_args(spec, analysis.nodes[nid].params)
        if listed:
            out.add(call_lines("        ", "self.append", [f"{spec.torch_class}({', '.join(args)})"]), nid)
            continue
        if not attr.isidentifier():
            out.add(register_lines(attr, f"{spec.torch_class}({', '.join(args)})"), nid)
            continue
        out.add(call_lines("        ", f"self.{attr} = {spec.torch_class}", args), nid)
    out.add("")


def _numbered(attr_of: dict[str, str]) -> bool:
    """Net's layers are all numbered ``0``, ``1``, ... (an imported nn.Sequential): Net is then an nn.ModuleList,
    whose ``self[0]`` reads them, with the same state_dict keys (no ``getattr(self, "0")``)."""
    return bool(attr_of) and list(attr_of.values()) == [str(i) for i in range(len(attr_of))]


def _emit_layer_line(out: _Emitter, node: Node, target: str, expr: str, info: NodeInfo, comments: bool = True) -> None:
    """One node's forward line(s); a layer returning (output, state) keeps the output, or its last time step."""
    nid = node.id
    if node.block is not None or not get_spec(node.type).returns_state:
        shapes = ", ".join(fmt(s) for s in info.out_shapes) if len(info.out_shapes) > 1 else fmt(info.out_shape)
        out.add(f"        {target} = {expr}", nid, shapes if comments else "")
        return
    full = (None, *(info.in_shapes[0] or ())[1:2], info.out_shape[-1]) if info.out_shape else None
    out.add(f"        {target}, _ = {expr}", nid, fmt(full) if full and comments else "")
    if info.params.get("return_sequences") == "last":
        last = f"{fmt(info.out_shape)} last time step" if comments else "last time step"
        out.add(f"        {target} = {target}[:, -1, :]", nid, last)


def _layer_uses(graph: Graph, order: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each layer type the code uses, inside blocks too (in first-use order), with what its nodes set: a helper
    class holds only the options some node sets (a TransformerEncoderStack without causal has no masked forward)."""
    top = [graph.node(nid) for nid in order]
    direct = {name for node in top for name in (node.block, node.first_block) if name}
    inner = [graph.blocks[name] for name in dependency_order(graph.blocks, direct)]
    uses: dict[str, list[dict[str, Any]]] = {}
    for nodes, bindings in [(top, {}), *((d.graph.nodes, d.bindings) for d in inner)]:
        for node in (n for n in nodes if n.block is None):
            bound = {param: arg for (nid, param), arg in bindings.items() if nid == node.id}  # set by the caller
            uses.setdefault(node.type, []).append({**node.params, **bound})
    return uses


def model_lines(
    graph: Graph, analysis: Analysis, class_name: str = "Net", taken: set[str] | frozenset[str] = frozenset()
) -> tuple[_Emitter, GeneratedCode]:
    """The class definition (no imports), for embedding into a module or a training script; the classes of the
    blocks it uses come first. ``taken``: the names the rest of the file binds at module level (a block's class
    named like one of them is renamed)."""
    check_ok(analysis)
    aligned = aligned_variants(graph, analysis.order)  # an imported ResNet's two BasicBlocks: one class
    if aligned is not None:
        same_net = analyze(aligned[0])
        if same_net.ok:
            try:
                return _model_lines(aligned[0], same_net, class_name, taken, aligned[1])
            except (_NotMerged, CodegenError):  # as drawn, then: two classes, or the error the drawing has
                pass
    return _model_lines(graph, analysis, class_name, taken, set())


class _NotMerged(Exception):
    """A variant given its plain class's signature is still not written through it: write the graph as it is."""


def _model_lines(
    graph: Graph, analysis: Analysis, class_name: str, taken: set[str] | frozenset[str], merged: set[str]
) -> tuple[_Emitter, GeneratedCode]:
    order = analysis.order
    nodes = {nid: graph.node(nid) for nid in order}
    attr_of = _module_attributes(order, nodes)
    out = _Emitter()
    uses = _layer_uses(graph, order)
    helpers = helper_lines(uses, uses)  # classes of layers torch has none for, blocks' too, with the options set
    out.add(helpers)
    taken = {*taken, "torch", "nn", class_name, *module_level_names("\n".join(helpers))}
    # each definition's signature worked out once per generation, never kept after it; each class named for it; an
    # auto value all instances of a class agree on written as its number
    with signature_memo(), code_names(graph.blocks, taken), instance_values(graph, analysis):
        try:
            definitions = used_definitions(graph, order)
            variants = optional_shortcuts(definitions)  # written through the plain class: downsample=...
            if not merged <= set(variants):
                raise _NotMerged
            with shortcuts(variants):
                for defn in definitions:
                    if defn.name not in variants:
                        out.add([*class_lines(defn, _block_forward), "", ""])
                _emit_init(out, class_name, nodes, attr_of, analysis, graph)
        except GraphError as exc:
            raise CodegenError(str(exc)) from None
        refs = {nid: f"[{attr}]" for nid, attr in attr_of.items()} if _numbered(attr_of) else attr_of
        inputs = _emit_forward(out, graph, analysis, order, nodes, refs, True)
    return out, GeneratedCode("", class_name, {}, attr_of, inputs)


def _block_forward(
    graph: Graph,
    analysis: Analysis,
    attr_of: dict[str, str],
    reads: dict[str, dict[str, str]],
    shortcut: tuple[str, int, str] | None = None,
) -> list[str]:
    """A block class's forward (no shape comments: they differ from one instance to the next)."""
    out = _Emitter()
    nodes = {nid: graph.node(nid) for nid in analysis.order}
    _emit_forward(out, graph, analysis, analysis.order, nodes, attr_of, False, reads, shortcut)
    return out.lines


def _emit_forward(
    out: _Emitter,
    graph: Graph,
    analysis: Analysis,
    order: list[str],
    nodes: dict[str, Node],
    attr_of: dict[str, str],
    comments: bool,
    reads: dict[str, dict[str, str]] | None = None,
    shortcut: tuple[str, int, str] | None = None,
) -> list[str]:
    """The forward method; returns its argument names (in Input-node order). ``shortcut``: (an Add, its
    port, an attribute): that input of the Add goes through ``self.<attribute>`` when the class was given one
    (torchvision's ``if self.downsample is not None: identity = self.downsample(x)``)."""
    inputs = [nid for nid in order if nodes[nid].type == "Input"]
    names = ForwardNames(graph, order, nodes, inputs, block=not comments)
    outputs = [nid for nid in order if nodes[nid].type == "Output"]
    ret = "torch.Tensor" if len(outputs) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(outputs))}]"
    arguments = ["self", *(f"{names.var_of[(nid, 0)]}: torch.Tensor" for nid in inputs)]
    out.add(call_lines("    ", "def forward", arguments, f" -> {ret}:"))
    for nid in inputs if comments else []:
        out.add(f"        # {names.var_of[(nid, 0)]}: {fmt(analysis.shape(nid))}", nid)
    for nid in inputs:
        _keep_skip(out, names, graph, nodes, (nid, 0))
    returned: dict[str, str] = {}
    for nid in order:
        node = nodes[nid]
        if node.type == "Input":
            continue
        sources = [(e.src, e.src_port) for e in graph.inputs_of(nid) if e is not None]
        args, dying = names.consume(sources, nid)
        if node.type == "Add" and len(args) == 2 and args[0] in names.free_skips and args[1] not in names.free_skips:
            args = [args[1], args[0]]  # ``out + identity``, as torchvision writes it (two terms add alike either way)
        if node.type == "Output":
            returned[nid] = args[0]
            continue
        readers = [e.dst for e in graph.consumers(nid) if e.dst in nodes]
        is_shortcut = len(readers) == 1 and nodes[readers[0]].type == "Add"
        if shortcut is not None and nid == shortcut[0]:
            args = _optional_shortcut(out, names, args, shortcut, names.var_of[sources[shortcut[1]]])
        target = _targets(names, node, dying, is_shortcut)
        info = analysis.nodes[nid]
        expr = _expression(node, attr_of.get(nid), args, info.params, (reads or {}).get(nid))
        _emit_layer_line(out, node, target, expr, info, comments)
        for key in [key for key in names.var_of if key[0] == nid]:
            _keep_skip(out, names, graph, nodes, key)
    # a block's forward returns in the order of its Output ports (the graph's node order), as its callers unpack
    ports = [n.id for n in graph.nodes_of_type("Output")] if not comments else outputs
    out.add(f"        return {', '.join(returned[nid] for nid in ports)}")
    return [names.var_of[(nid, 0)] for nid in inputs]


def _keep_skip(out: _Emitter, names: ForwardNames, graph: Graph, nodes: dict[str, Node], key: tuple[str, int]) -> None:
    """A residual's skip, a value read by one Add and one other layer, is kept as ``identity = x`` where it is
    made (a block's first line, as torchvision writes BasicBlock), so the main path reads on from ``x`` and the
    Add says ``x + identity``."""
    if not names.residual:
        return
    readers = [e.dst for e in graph.consumers(key[0]) if e.src_port == key[1] and e.dst in nodes]
    adds = [r for r in readers if nodes[r].type == "Add"]
    sizes = [r for r in readers if _reads_batch_size_only(nodes[r])]  # a learned tensor: x = x + pos_embedding
    if len(readers) == 2 and len(adds) == 1 and not sizes:
        out.add(f"        {names.skip(key, adds[0])} = {names.var_of[key]}")


def _reads_batch_size_only(node: Node) -> bool:
    """A layer that reads its input only for the batch size (a learned tensor's ``expand(x.shape[0], ...)``):
    the value it reads is no skip kept beside a main path."""
    spec = node.spec if node.block is None else None
    template = spec.forward_template if spec is not None else ""
    return "{x}.shape[0]" in template and "{x}" not in template.replace("{x}.shape[0]", "")


def _optional_shortcut(
    out: _Emitter, names: ForwardNames, args: list[str], shortcut: tuple[str, int, str], source: str
) -> list[str]:
    """``identity = x`` (kept at the top when the block's input is the skip), then through the optional
    shortcut layer when there is one; the Add reads ``identity``."""
    _, port, attr = shortcut
    identity = args[port]
    if identity == source:  # not kept as a skip above
        identity = names.temp.allocate("identity")
        out.add(f"        {identity} = {source}")
    out.add(f"        if self.{attr} is not None:")
    out.add(f"            {identity} = self.{attr}({source})")
    return [*args[:port], identity, *args[port + 1 :]]


def _targets(names: ForwardNames, node: Node, dying: list[str], shortcut: bool = False) -> str:
    """The variable(s) a node's result goes into; a block with several outputs is unpacked into one variable per
    used Output port (``a, _ = self.block(x)``)."""
    count = node.output_count() if node.block is not None else 1
    if count <= 1:
        return names.target((node.id, 0), dying, shortcut)
    used = [k for k in range(count) if names.used((node.id, k))] or [0]
    parts = []
    for k in range(count):
        parts.append(names.target((node.id, k), dying) if k in used else "_")
        dying = []
    return ", ".join(parts)


def generate_model(
    graph: Graph, class_name: str = "Net", title: str = "", analysis: Analysis | None = None
) -> GeneratedCode:
    """A complete, importable module holding the model class."""
    analysis = analysis or analyze(graph)
    body, code = model_lines(graph, analysis, class_name)
    about = f" for {title!r}" if title and title.isprintable() and '"' not in title and "\\" not in title else ""
    header = [
        f'"""PyTorch model generated by TorchCanvas{about}."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
    ]
    code.source = "\n".join(header + body.lines) + "\n"
    code.line_to_node = {line + len(header): nid for line, nid in body.line_to_node.items()}
    return code
