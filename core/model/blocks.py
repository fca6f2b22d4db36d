"""Blocks: named sub-graphs that become their own ``nn.Module`` class, used on the canvas like a layer.

A ``BlockDef`` holds its own ``Graph`` whose Input nodes are the block's input ports and whose Output nodes are
its output ports (in graph order). An instance is a ``Node`` of type ``"Block"`` whose ``block`` names the
definition; its ``params`` are the values of the block's exposed arguments, ``repeat`` > 1 makes it a stack
(``nn.Sequential`` of that many instances) and ``first_block`` / ``first_params`` let the first of them differ
(ResNet's first block of a stage has a projection shortcut and a stride).

Arguments: every auto-filled parameter inside a block follows the block's input, so it becomes a constructor
argument by itself (``in_channels``); a pinned value becomes one when the user exposes it (``expose_arg``), with
the pinned value as its default. All definitions of a project live in one ``Library`` (a dict shared by the
project's graph and every definition's graph), so editing a definition changes every instance.

This module holds what a block is and its rules (names, arguments, containment, instances, file form); the edits
that make, ungroup and expose are ``core.model.block_edits``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import GraphError, ParameterError
from core.model.graph import Graph
from core.model.names import code_name_problem
from core.model.node import Node

BLOCK_TYPE = "Block"
MAX_BLOCK_DEPTH = 8  # blocks inside blocks; a ResNet needs 2
MAX_REPEAT = 64
MAX_BLOCKS = 200


@dataclass
class BlockArg:
    """A constructor argument of a block: ``keyword`` ones have ``default`` in the signature (``stride=1``)."""

    name: str
    default: Any
    keyword: bool = True


@dataclass
class BlockDef:
    name: str
    graph: Graph
    args: list[BlockArg] = field(default_factory=list)
    # (inner node id, parameter) -> argument name: the parameter takes the argument's value
    bindings: dict[tuple[str, str], str] = field(default_factory=dict)
    description: str = ""
    # Written as a class of its own even when its layers form a chain (an imported module whose attribute names,
    # not nn.Sequential's numbers, make the state_dict keys: ``features.1.conv.0.weight``).
    as_class: bool = False

    @property
    def input_ids(self) -> list[str]:
        return [n.id for n in self.graph.nodes_of_type("Input")]

    @property
    def output_ids(self) -> list[str]:
        return [n.id for n in self.graph.nodes_of_type("Output")]

    @property
    def ports(self) -> tuple[int, int]:
        return len(self.input_ids), len(self.output_ids)

    def copy(self, library: dict[str, BlockDef]) -> BlockDef:
        """A copy whose graph uses ``library`` (the copied library it goes into, see ``Graph.copy``)."""
        args = [dataclasses.replace(a, default=copy.deepcopy(a.default)) for a in self.args]
        return dataclasses.replace(self, graph=self.graph.copy(library), args=args, bindings=dict(self.bindings))

    def arg(self, name: str) -> BlockArg | None:
        return next((a for a in self.args if a.name == name), None)

    def arg_values(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every argument's value for an instance with these ``params`` (missing ones take the default)."""
        return {a.name: params.get(a.name, a.default) for a in self.args}


Library = dict[str, BlockDef]


def check_class_name(name: str) -> None:
    """A block's name is its class's name in the generated code: no keyword, built-in, ``__`` name or name the
    generated file uses itself (``super``, ``self``, ``nn``, ``Net``)."""
    problem = code_name_problem(name)
    if problem is not None:
        raise GraphError(f"The block name {str(name)[:60]!r} is not allowed: {problem}; choose another (BasicBlock).")


def arg_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a block's argument, or None: a keyword, a built-in, a name the generated class uses
    itself (``self``, ``super``, ``nn``, ``in_channels``) or a ``__`` name (``__class__`` breaks ``super()``)."""
    problem = code_name_problem(name)
    if problem is None and isinstance(name, str) and re.fullmatch(r"in_channels\d*", name):
        problem = f"'{name}' is used by the generated code itself"
    return problem


def keyword_name(name: str) -> bool:
    """A name no argument may take (``arg_name_problem`` says why)."""
    return arg_name_problem(name) is not None


def validate_args(defn: BlockDef, params: dict[str, Any], who: str = "") -> dict[str, Any]:
    """An instance's argument values, each checked like the parameter it sets inside the block."""
    clean: dict[str, Any] = {}
    prefix = f"{who}: " if who else ""
    for key, value in params.items():
        if defn.arg(key) is None:
            raise ParameterError(f"{prefix}block {defn.name} has no argument {key!r}")
        clean[key] = _check_arg_value(defn, key, value, prefix, 0)
    return clean


def _check_arg_value(defn: BlockDef, arg: str, value: Any, prefix: str, depth: int) -> Any:
    """The value checked against every parameter the argument sets (inside nested blocks too); normalised."""
    checked = False
    for (nid, param), bound in defn.bindings.items():
        if bound != arg or nid not in defn.graph:
            continue
        node = defn.graph.node(nid)
        inner = defn.graph.blocks.get(node.block) if node.block else None
        if node.spec is not None and node.spec.has_param(param):
            try:
                value, checked = node.spec.param(param).validate(value), True
            except ParameterError as exc:
                raise ParameterError(f"{prefix}{arg}: {exc}") from None
        elif inner is not None and inner.arg(param) is not None and depth < MAX_BLOCK_DEPTH:
            value, checked = _check_arg_value(inner, param, value, prefix, depth + 1), True
    if not checked and not isinstance(value, (bool, int, float)):
        raise ParameterError(f"{prefix}{arg}: a value of an argument that sets nothing must be a plain number")
    return value


# --- containment -------------------------------------------------------------------------------------------------
def uses(defn: BlockDef) -> set[str]:
    """Names of the definitions whose instances appear directly in ``defn``."""
    found: set[str] = set()
    for node in defn.graph.nodes:
        if node.block is not None:
            found.add(node.block)
            if node.first_block:
                found.add(node.first_block)
    return found


def check_library(library: Library) -> None:
    """Refuse a definition that contains itself (directly or through others), a missing one, or nesting too deep."""
    depth: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            loop = " -> ".join((*path[path.index(name) :], name))
            raise GraphError(f"Block {name} contains itself ({loop}): a block cannot contain itself.")
        if name not in library:
            where = f" (used in {path[-1]})" if path else ""
            raise GraphError(f"There is no block definition named {name!r}{where}.")
        if name in depth:
            return depth[name]
        if len(path) > MAX_BLOCK_DEPTH:  # deeper than any allowed nesting: stop before the stack does
            raise GraphError(f"Blocks are nested more than {MAX_BLOCK_DEPTH} levels deep ({' -> '.join(path)}).")
        level = 1 + max((visit(u, (*path, name)) for u in sorted(uses(library[name]))), default=0)
        if level > MAX_BLOCK_DEPTH:
            raise GraphError(f"Blocks are nested more than {MAX_BLOCK_DEPTH} levels deep (block {name}).")
        depth[name] = level
        return level

    for name in library:
        visit(name, ())


def dependency_order(library: Library, names: set[str] | None = None) -> list[str]:
    """Definitions so that each comes after the ones it uses (the order their classes are written in)."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in library:
            return
        for used in sorted(uses(library[name])):
            visit(used)
        order.append(name)

    for name in sorted(names if names is not None else set(library)):
        visit(name)
    return order


def expanded_size(library: Library, graph: Graph) -> int:
    """How many layers the graph has with every instance expanded (repeats counted): bounds what a file may ask."""
    memo: dict[str, int] = {}

    def size_of(g: Graph, stack: tuple[str, ...]) -> int:
        total = 0
        for node in g.nodes:
            if node.block is None:
                total += 1
                continue
            first = node.first_block or node.block
            total += inner(first, stack) + (node.repeat - 1) * inner(node.block, stack)
        return total

    def inner(name: str, stack: tuple[str, ...]) -> int:
        if name not in memo:
            if name in stack or name not in library or len(stack) > MAX_BLOCK_DEPTH:
                return 1
            memo[name] = size_of(library[name].graph, (*stack, name))
        return memo[name]

    return size_of(graph, ())


# --- instances ----------------------------------------------------------------------------------------------------
def new_instance(graph: Graph, defn: BlockDef, pos: tuple[float, float] = (0.0, 0.0), name: str | None = None) -> Node:
    """A node (not yet added) using ``defn``; ``graph.blocks`` must hold the definition."""
    if graph.blocks.get(defn.name) is not defn:
        raise GraphError(f"Block {defn.name} is not a definition of this project.")
    prefix = "".join(c for c in defn.name.lower() if c.isalnum() or c == "_") or "block"
    if not prefix[0].isalpha():
        prefix = "block" + prefix
    return Node(
        graph.new_id(),
        BLOCK_TYPE,
        name or graph.unique_name(prefix),
        {},
        (float(pos[0]), float(pos[1])),
        defn.ports,
        block=defn.name,
    )


def instance_at(graph: Graph, node: Node, index: int) -> tuple[BlockDef, dict[str, Any]]:
    """The definition and argument values of copy ``index`` of a (repeated) instance."""
    name = node.first_block if index == 0 and node.first_block else node.block
    if name is None or name not in graph.blocks:
        raise GraphError(f"{node.name} uses a block {name!r} that the project does not define.", node.id)
    defn = graph.blocks[name]
    params = dict(node.params)
    if index == 0:
        params.update(node.first_params)
    return defn, defn.arg_values({k: v for k, v in params.items() if defn.arg(k) is not None})


def concrete_graph(defn: BlockDef, args: dict[str, Any], in_shapes: list[Any], in_dtypes: list[str]) -> Graph:
    """The definition's graph as one instance sees it: its Inputs take the instance's shapes, bound parameters
    the argument values."""
    graph = defn.graph.copy(defn.graph.blocks)  # the instance's view; it shares the project's library
    for (nid, param), arg in defn.bindings.items():
        if arg in args and nid in graph:
            node = graph.node(nid)
            node.params[param] = args[arg]
    for nid, shape, dtype in zip(defn.input_ids, in_shapes, in_dtypes, strict=False):
        node = graph.node(nid)
        if shape is not None and len(shape) > 1:
            node.params = {**node.params, "shape": [int(d) for d in shape[1:]], "dtype": dtype}
    return graph


def refresh_instances(graph: Graph, name: str) -> list[Node]:
    """After a definition's ports changed: every instance in ``graph`` takes the new port counts.

    Returns the instances that changed, for the caller to announce (``graph.params_changed``)."""
    defn = graph.blocks[name]
    changed = [n for n in graph.nodes if name in (n.block, n.first_block) and n.ports != defn.ports]
    for node in changed:
        node.ports = defn.ports
    return changed


# --- file form -------------------------------------------------------------------------------------------------------
def block_to_dict(defn: BlockDef) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": defn.name,
        "graph": defn.graph.to_dict(),
        "args": [{"name": a.name, "default": a.default, "keyword": a.keyword} for a in defn.args],
        "bindings": [{"node": n, "param": p, "arg": a} for (n, p), a in sorted(defn.bindings.items())],
    }
    if defn.description:
        data["description"] = defn.description
    if defn.as_class:
        data["as_class"] = True
    return data


def library_to_list(library: Library) -> list[dict[str, Any]]:
    return [block_to_dict(library[name]) for name in dependency_order(library)]


def check_instances(graph: Graph, where: str = "") -> None:
    """Every instance in ``graph`` names a definition, has its port counts, valid arguments and repeat."""
    for node in graph.nodes:
        if node.block is None:
            continue
        for name in (node.block, node.first_block):
            if name is not None and name not in graph.blocks:
                raise GraphError(f"{where}{node.name} uses a block {name!r} that the file does not define.", node.id)
        defn = graph.blocks[node.block]
        first = graph.blocks[node.first_block] if node.first_block else defn
        if node.ports != defn.ports or first.ports != defn.ports:
            raise GraphError(
                f"{where}{node.name} has {node.ports} ports but block {defn.name} has {defn.ports} (inputs, outputs).",
                node.id,
            )
        if not 1 <= node.repeat <= MAX_REPEAT:
            raise GraphError(f"{where}{node.name}: repeat must be from 1 to {MAX_REPEAT}.", node.id)
        if node.repeat > 1 and defn.ports != (1, 1):
            raise GraphError(f"{where}{node.name}: only a block with one input and one output can repeat.", node.id)
        node.params = validate_args(defn, node.params, node.name)
        node.first_params = validate_args(first, node.first_params, node.name)


def check_definition(defn: BlockDef) -> None:
    """A definition's own rules: ports, argument names, and bindings that name real layers and parameters."""
    where = f"block {defn.name}: "
    ins, outs = defn.ports
    if not ins or not outs:
        raise GraphError(f"{where}a block needs at least one Input and one Output node.")
    if ins > 16 or outs > 16:
        raise GraphError(f"{where}a block has at most 16 inputs and 16 outputs.")
    names = [a.name if isinstance(a.name, str) else "" for a in defn.args]  # "" fails the name check below
    if len(set(names)) != len(names) and "" not in names:
        raise GraphError(f"{where}an argument name appears twice.")
    for item in defn.args:
        problem = arg_name_problem(item.name)
        if problem is not None:
            raise GraphError(f"{where}{str(item.name)[:40]!r} cannot be an argument name: {problem}.")
        if not isinstance(item.keyword, bool):
            raise GraphError(f"{where}argument {item.name}: keyword must be true or false.")
    for (nid, param), arg in defn.bindings.items():
        if nid not in defn.graph or defn.arg(arg) is None:
            raise GraphError(f"{where}a binding names a layer or an argument that does not exist.")
        node = defn.graph.node(nid)
        inner = defn.graph.blocks.get(node.block) if node.block else None
        if inner is not None:
            known = inner.arg(param) is not None
        else:
            known = node.spec is not None and node.spec.has_param(param)
        if not known:
            raise GraphError(f"{where}{node.name} has no parameter {param!r} to bind.")
    for item in defn.args:  # each default must be a value the parameters it sets accept
        try:
            item.default = _check_arg_value(defn, item.name, item.default, "", 0)
        except ParameterError as exc:
            raise GraphError(f"{where}argument {exc}") from None
