"""The module hierarchy as blocks: every module the trace went through becomes a block instance, named by its
attribute (``layer1``, ``downsample``), so the generated code has the original's state_dict keys.

1. Each module's layers form a graph (built bottom-up: a child module is one Block node in its parent's graph).
2. Modules of one class with the same drawing share one definition; parameters that differ between them
   (``out_channels``, ``stride``) become the definition's arguments.
3. An ``nn.Sequential`` of blocks of one definition becomes a repeat (``layer1`` = BasicBlock ×2), its first
   block may be another definition (the stage's first block with a projection shortcut).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import fx, nn

from core.code.block_signature import inline
from core.errors import TorchCanvasError
from core.fx_import.items import Flat, Item
from core.fx_import.source import IMPORTED_MODULE
from core.fx_import.trace import dtype_of, shape_of
from core.model.blocks import BLOCK_TYPE, MAX_REPEAT, BlockArg, BlockDef, Library, keyword_name
from core.model.graph import Graph
from core.model.names import clean_identifier, code_name_problem, name_problem
from core.model.node import Edge, Node


@dataclass
class Scope:
    path: str  # qualified module name ("" for the model)
    depth: int
    members: list[Item | Scope] = field(default_factory=list)
    inputs: list[fx.Node] = field(default_factory=list)
    outputs: list[fx.Node] = field(default_factory=list)
    graph: Graph | None = None
    children: dict[str, str] = field(default_factory=dict)  # child path -> its Block node id in ``graph``
    key: str = ""  # same key: same drawing (same class, layers, names, wires)
    parent: Scope | None = None

    @property
    def attr(self) -> str:
        return self.path.split(".")[-1]


def _scopes(flat: Flat) -> tuple[Scope, list[Scope]]:
    root = Scope("", 0)
    by_path: dict[str, Scope] = {"": root}
    for item in flat.items:
        scope = root
        for path in item.chain:
            if path not in by_path:
                child = Scope(path, scope.depth + 1, parent=scope)
                by_path[path] = child
                scope.members.append(child)
            scope = by_path[path]
        scope.members.append(item)
    post: list[Scope] = []

    def visit(scope: Scope) -> None:
        for member in scope.members:
            if isinstance(member, Scope):
                visit(member)
        post.append(scope)

    visit(root)
    return root, post


def _produced(scope: Scope) -> list[Item]:
    found: list[Item] = []
    for member in scope.members:
        found += _produced(member) if isinstance(member, Scope) else [member]
    return found


def _boundary(scope: Scope, consumers: dict[fx.Node, list[fx.Node]], final: list[fx.Node]) -> None:
    items = _produced(scope)
    inside = {item.node for item in items}
    for item in items:
        for value in item.inputs:
            if value not in inside and value not in scope.inputs:
                scope.inputs.append(value)
    for item in items:
        users = consumers.get(item.node, [])
        if item.node in final or any(u not in inside for u in users):
            scope.outputs.append(item.node)


def _input_params(value: fx.Node, fallback: list[int]) -> dict[str, Any]:
    shape = shape_of(value)
    dims = [int(d) for d in shape[1:]] if shape and len(shape) > 1 else fallback
    return {"shape": dims or [1], "dtype": dtype_of(value)}


def _free_name(graph: Graph, wanted: str, taken: set[str]) -> str:
    name = wanted if name_problem(wanted) is None else clean_identifier(f"m_{wanted}", "layer")
    if name_problem(name) is not None:
        name = "layer"
    base, i = name, 1
    while name in taken or graph.by_name(name) is not None:
        name = f"{base}_{i}"
        i += 1
    taken.add(name)
    return name


def _odd_key(attr: str) -> str | None:
    """A submodule's name that Python cannot spell (regnet's ``block1-0``, or an ``nn.Sequential``'s ``0``), kept
    so the code registers the module under it where it is not written inline as an ``nn.Sequential``; None for a
    Python name."""
    return None if attr.isidentifier() else attr


def build_graph(scope: Scope, input_shape: list[int], library: Library) -> None:
    """The scope's own graph: Input nodes, its layers and one Block node per child (placeholder block names)."""
    graph = Graph()
    graph.blocks = library
    values: dict[fx.Node, tuple[str, int]] = {}
    reserved = {m.name for m in scope.members if isinstance(m, Item) and m.is_module}
    reserved |= {m.attr for m in scope.members if isinstance(m, Scope)}
    taken: set[str] = set()
    if scope.depth > 0:
        for i, value in enumerate(scope.inputs):
            node = graph.add("Input", "x" if i == 0 else f"x{i + 1}", **_input_params(value, input_shape))
            values[value] = (node.id, 0)
            taken.add(node.name)
    for member in scope.members:
        if isinstance(member, Scope):
            key = _odd_key(member.attr)
            name = _free_name(graph, re.sub(r"\W", "_", member.attr) if key else member.attr, taken)
            node = Node(graph.new_id(), BLOCK_TYPE, name, {}, (0.0, 0.0), (len(member.inputs), len(member.outputs)))
            node.block, node.key = member.key, key
            graph.add_node(node)
            scope.children[member.path] = node.id
            _wire(graph, node.id, member.inputs, values)
            for port, value in enumerate(member.outputs):
                values[value] = (node.id, port)
            continue
        item = member
        if item.type == "Input":
            params = _input_params(item.node, input_shape)  # each input its own shape and dtype (token ids)
            name = _free_name(graph, "x" if not graph.nodes_of_type("Input") else item.name, taken)
            node = graph.create_node("Input", name=name, params=params)
        else:
            wanted = item.name if item.is_module else _call_name(item)
            if not item.is_module:
                while wanted in reserved:
                    wanted += "_"
            name = _free_name(graph, wanted, taken)
            try:
                node = graph.create_node(item.type, name=name, params=item.params)
            except TorchCanvasError as exc:
                where = f"model.{scope.path}." if scope.path else "model."
                raise TorchCanvasError(f"`{where}{item.name}`: {exc}") from None
            if item.is_module:
                node.key = _odd_key(item.name)
        graph.add_node(node)
        _wire(graph, node.id, item.inputs, values)
        values[item.node] = (node.id, 0)
    for j, value in enumerate(scope.outputs):
        out = graph.add("Output", _free_name(graph, "output" if j == 0 else f"output{j + 1}", taken))
        src, port = values[value]
        graph.connect(Edge(src, out.id, 0, port))
    scope.graph = graph


def _call_name(item: Item) -> str:
    """A functional call's box: ``relu`` for F.relu, ``add`` for +, from fx's own name without its number."""
    return re.sub(r"_\d+$", "", item.name) or item.type.lower()


def _wire(graph: Graph, node_id: str, inputs: list[fx.Node], values: dict[fx.Node, tuple[str, int]]) -> None:
    for port, value in enumerate(inputs):
        src, src_port = values[value]
        graph.connect(Edge(src, node_id, port, src_port))


def _structure(scope: Scope, types: dict[str, type]) -> str:
    assert scope.graph is not None
    nodes = [
        (n.type, n.name, n.key, n.block, n.repeat, sorted(n.params) if n.type != "Input" else len(n.params["shape"]))
        for n in scope.graph.nodes
    ]
    edges = [(e.src, e.dst, e.dst_port, e.src_port) for e in scope.graph.edges]
    cls = types.get(scope.path)
    return json.dumps([getattr(cls, "__qualname__", str(cls)), nodes, edges], default=str)


def build(flat: Flat, input_shape: list[int]) -> tuple[Graph, Library]:
    """The model's graph with its block library."""
    consumers: dict[fx.Node, list[fx.Node]] = {}
    for item in flat.items:
        for value in item.inputs:
            consumers.setdefault(value, []).append(item.node)
    root, post = _scopes(flat)
    library: Library = {}
    root.outputs = list(flat.outputs)
    for scope in post:
        if scope.depth > 0:
            _boundary(scope, consumers, flat.outputs)
        build_graph(scope, input_shape, library)
        scope.key = "?" + _structure(scope, flat.types)  # never a valid class name: replaced below
    groups: dict[str, list[Scope]] = {}
    for scope in post:
        if scope.depth > 0:
            groups.setdefault(scope.key, []).append(scope)
    for scopes in groups.values():  # post-order of first use: a child's definitions are made before its parent's
        _define(scopes, flat.types, library)
    _numbered_keys(library)
    assert root.graph is not None
    return root.graph, library


def _numbered_keys(library: Library) -> None:
    """An ``nn.Sequential``'s children ``0``, ``1`` ... keep their number as key only where the code writes their
    definition as a class (a Linear on tokens [N, T, D] takes a size no channel count gives): registered as "0",
    their weights load by name. Written inline as ``nn.Sequential(...)``, they need none."""
    for defn in library.values():
        if defn.as_class:
            continue
        try:
            numbered = inline(defn)
        except TorchCanvasError:
            numbered = False
        if numbered:
            for node in defn.graph.nodes:
                if node.key is not None and node.key.isdigit():
                    node.key = None


def _parent_node(scope: Scope) -> Node:
    assert scope.parent is not None and scope.parent.graph is not None
    return scope.parent.graph.node(scope.parent.children[scope.path])


def _define(scopes: list[Scope], types: dict[str, type], library: Library) -> None:
    rest = [s for s in scopes if not _as_repeat(s, types)]
    partitions: dict[str, list[Scope]] = {}
    for scope in rest:
        assert scope.graph is not None
        shape = [(n.block, n.first_block, n.repeat, n.first_params) for n in scope.graph.nodes]
        partitions.setdefault(json.dumps(shape, default=str, sort_keys=True), []).append(scope)
    for members in partitions.values():
        _one_definition(members, types, library)


def _as_repeat(scope: Scope, types: dict[str, type]) -> bool:
    """An nn.Sequential of blocks of one definition: its parent's node becomes a repeat of that definition."""
    graph = scope.graph
    assert graph is not None
    if not issubclass(types.get(scope.path, object), nn.Sequential) or type(types.get(scope.path)) is not type:
        return False
    inner = [n for n in graph.nodes if n.type not in ("Input", "Output")]
    if len(inner) < 2 or len(inner) > MAX_REPEAT or any(n.block is None or n.repeat != 1 for n in inner):
        return False
    if [n.name for n in inner] != [_free_name(Graph(), str(i), set()) for i in range(len(inner))]:
        return False
    first, others = inner[0], inner[1:]
    if any(n.block != others[0].block or n.params != others[0].params for n in others):
        return False
    if first.ports != (1, 1) or others[0].ports != (1, 1):
        return False
    node = _parent_node(scope)
    node.block = others[0].block
    node.repeat = len(inner)
    node.params = dict(others[0].params)
    if first.block != others[0].block:
        node.first_block, node.first_params = first.block, dict(first.params)
    else:
        node.first_params = {k: v for k, v in first.params.items() if v != others[0].params.get(k)}
    return True


def _class_name(scope: Scope, types: dict[str, type], library: Library) -> str:
    cls = types.get(scope.path)
    name = getattr(cls, "__name__", "Block")
    container = cls in (nn.ModuleList, nn.ModuleDict)  # a class named ModuleList would pass for torch's own
    if container or code_name_problem(name) is not None or len(name) > 40:  # a class named super breaks the code
        name = "".join(part.capitalize() for part in re.split(r"[^0-9a-zA-Z]+", scope.attr) if part) or "Block"
        if not name[0].isalpha():
            name = "Block" + name
    base, i = name, 2
    while name in library or code_name_problem(name) is not None:
        name = f"{base}{i}"
        i += 1
    return name


def _about(scopes: list[Scope], cls: Any, name: str) -> str:
    """What the class's docstring says the block is: the first paragraph of the original class's docstring
    ("Transformer encoder block.") and where it came from (``torchvision.models.vision_transformer.EncoderBlock``,
    ``tiny_vit.py:Block``: the file, never the name it was run under); a torch container by the attribute it was
    in (``The model's encoder.layers: an nn.Sequential in the original.``)."""
    if cls in (nn.Sequential, nn.ModuleList, nn.ModuleDict):
        paths = [s.path for s in scopes]
        where = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        text = f"The model's {where}: an nn.{cls.__name__} in the original."
    else:
        module, qualname = str(getattr(cls, "__module__", "")), str(getattr(cls, "__qualname__", name))
        origin = f"{module}.{qualname}"
        if module.startswith(IMPORTED_MODULE):
            file = getattr(sys.modules.get(module), "__file__", None)
            origin = f"{Path(file).name}:{qualname}" if isinstance(file, str) else qualname
        doc = getattr(cls, "__doc__", None) if isinstance(cls, type) else None  # its own, not nn.Module's
        first = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()) if isinstance(doc, str) else ""
        first = first if 0 < len(first) <= 120 else ""
        text = f"{first}{' ' if first and first[-1] in '.!?' else '. ' if first else ''}Imported from {origin}."
    text = "".join(c for c in text if c.isprintable() and c not in '"\\')
    return text[:200]


def _out_channels(scope: Scope) -> int | None:
    shape = shape_of(scope.outputs[0]) if len(scope.outputs) == 1 else None
    return shape[1] if shape is not None and len(shape) > 1 else None


def _one_definition(scopes: list[Scope], types: dict[str, type], library: Library) -> None:
    first = scopes[0]
    graph = first.graph
    assert graph is not None
    args: list[BlockArg] = []
    bindings: dict[tuple[str, str], str] = {}
    vectors: dict[str, str] = {}  # argument -> the JSON of its values in every instance
    values: list[dict[str, Any]] = [{} for _ in scopes]
    out_channels = [_out_channels(s) for s in scopes]
    for node in graph.nodes:
        if node.type in ("Input", "Output"):
            continue
        for param in sorted(node.params):
            seen = [s.graph.node(node.id).params.get(param) for s in scopes]  # type: ignore[union-attr]
            vector = json.dumps(seen, default=str)
            if all(v == seen[0] for v in seen):
                continue
            arg = next((a for a, v in vectors.items() if v == vector and a.split("__")[0] == param), None)
            if arg is None:
                arg = param if param not in vectors and not keyword_name(param) else f"{node.name}_{param}"
                if arg == "out_channels" and seen != out_channels:  # the code generator reads it as the output's
                    arg = f"{node.name}_{param}"
                while arg in vectors or keyword_name(arg):
                    arg += "_"
                vectors[arg] = vector
                args.append(BlockArg(arg, seen[0], True))
                for i, value in enumerate(seen):
                    values[i][arg] = value
            bindings[(node.id, param)] = arg
    cls = types.get(first.path)
    name = _class_name(first, types, library)
    sequential = isinstance(cls, type) and issubclass(cls, nn.Sequential)
    plain_numbers = sequential and all(
        n.name == _free_name(Graph(), str(i), set())
        for i, n in enumerate(x for x in graph.nodes if x.type not in ("Input", "Output"))
    )
    library[name] = BlockDef(name, graph, args, bindings, _about(scopes, cls, name), as_class=not plain_numbers)
    for scope, own in zip(scopes, values, strict=True):
        node = _parent_node(scope)
        node.block = name
        node.params = own
