"""Shape arithmetic folded into numbers: for the one input shape an import is made for, ``x.size()``,
``x.shape[1:]``, ``c // groups`` and ``torch._assert(h == 224, ...)`` are constants, so the calls that use them
(``x.view(n, groups, c // groups, h, w)``) can become layers with fixed settings.

Only the batch size stays unknown (``BATCH``): a value computed from it is left as it is, and the import names
it as before. The traced graph is the importer's own copy, so the users' arguments are rewritten in place.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx
from torch.fx.node import map_aggregate

from core.fx_import.trace import node_line, shape_of


class _Batch:
    """The batch size: the first dimension of every tensor, whatever the input's batch."""

    def __repr__(self) -> str:
        return "N"


BATCH = _Batch()
_UNKNOWN = object()
_ARITHMETIC = {
    operator.add,
    operator.sub,
    operator.mul,
    operator.floordiv,
    operator.truediv,
    operator.mod,
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
}


def _dims(node: Any) -> tuple[Any, ...] | None:
    """A tensor's dimensions, the first one the batch; a tensor the model holds (``self.weight.shape``) has none."""
    shape = shape_of(node)
    if shape is not None and isinstance(node, fx.Node) and node.op == "get_attr":
        return tuple(int(d) for d in shape)
    return None if shape is None or not shape else (BATCH, *shape[1:])


def _value(node: fx.Node, known: dict[fx.Node, Any]) -> Any:
    """The node's value when it follows from the input shape alone, else _UNKNOWN."""

    def arg(value: Any) -> Any:
        if isinstance(value, fx.Node):
            return known.get(value, _UNKNOWN)
        return value

    args = [arg(a) for a in node.args]
    if node.op == "call_method" and node.target in ("size", "dim"):
        dims = _dims(node.args[0])
        if dims is None or any(a is _UNKNOWN for a in args[1:]):
            return _UNKNOWN
        if node.target == "dim":
            return len(dims)
        index = args[1] if len(args) > 1 else node.kwargs.get("dim")
        return dims if index is None else dims[index]  # type: ignore[index]
    if node.op == "call_function" and node.target is getattr and args[1] in ("shape", "ndim"):
        dims = _dims(node.args[0])
        if dims is None:
            return _UNKNOWN
        return dims if args[1] == "shape" else len(dims)
    if any(a is _UNKNOWN for a in args):
        return _UNKNOWN
    if node.op != "call_function":
        return _UNKNOWN
    if node.target is operator.getitem and isinstance(args[0], tuple):
        return args[0][args[1]]
    if node.target in _ARITHMETIC:
        if len(args) != 2 or any(isinstance(a, _Batch) or not isinstance(a, (int, float)) for a in args):
            return _UNKNOWN
        return node.target(*args)  # type: ignore[operator]
    if node.target is torch._assert and args and args[0] is True:
        return None  # an assertion the input shape meets: nothing to draw
    return _UNKNOWN


def fold(gm: fx.GraphModule) -> set[fx.Node]:
    """Replaces each foldable value by its number in its users' arguments; returns the folded nodes. A value
    read from an image's height or width (U-Net's pad to the skip's size, ``F.avg_pool2d(x, x.size(3))``) holds
    for the traced size only: the import's notes say so, naming each line."""
    known: dict[fx.Node, Any] = {}
    spatial: dict[fx.Node, Any] = {}  # per folded value: read from a height or width (a tuple for a whole shape)
    for node in gm.graph.nodes:
        if node.op in ("call_method", "call_function"):
            value = _value(node, known)
            if value is not _UNKNOWN:
                known[node] = value
                spatial[node] = _spatial(node, spatial)
    sized: list[fx.Node] = []
    for node in gm.graph.nodes:
        if node in known or not any(n in known for n in node.all_input_nodes):
            continue
        if any(_any(spatial.get(n, False)) for n in node.all_input_nodes if n in known):
            sized.append(node)
        node.args = map_aggregate(node.args, lambda a: known.get(a, a) if isinstance(a, fx.Node) else a)
        node.kwargs = map_aggregate(node.kwargs, lambda a: known.get(a, a) if isinstance(a, fx.Node) else a)
    note = _sized_note(gm, sized) if sized else ""
    if note and note not in gm.meta.setdefault("notes", []):
        gm.meta["notes"].append(note)
    return set(known)


def _spatial(node: fx.Node, spatial: dict[fx.Node, Any]) -> Any:
    """Whether a folded value comes from a height, width or depth (dimensions 2 on of [N, C, H, W] or a volume);
    a whole shape gives one flag per dimension, so ``x.size()[1]`` (the channels) is not one."""
    if (node.op == "call_method" and node.target == "size") or (node.target is getattr and node.args[1] == "shape"):
        dims = _dims(node.args[0]) or ()
        flags = tuple(len(dims) >= 4 and i >= 2 for i in range(len(dims)))
        index = node.args[1] if node.op == "call_method" and len(node.args) > 1 else node.kwargs.get("dim")
        return flags if index is None or not isinstance(index, int) else flags[index]
    if node.target is operator.getitem and isinstance(spatial.get(node.args[0]), tuple):  # type: ignore[arg-type]
        picked = spatial[node.args[0]][node.args[1]]  # type: ignore[index]
        return picked
    return any(_any(spatial.get(a, False)) for a in node.all_input_nodes)


def _any(flag: Any) -> bool:
    return any(flag) if isinstance(flag, tuple) else bool(flag)


def _sized_note(gm: fx.GraphModule, users: list[fx.Node]) -> str:
    lines: list[str] = []
    for node in users:
        line = node_line(node)
        if line and line not in lines:
            lines.append(line)
    first = next((shape_of(n) for n in gm.graph.nodes if n.op == "placeholder"), None)
    size = "x".join(str(d) for d in first[2:]) if first is not None and len(first) >= 4 else ""
    where = "; ".join(lines[:4]) + (f" and {len(lines) - 4} more" if len(lines) > 4 else "")
    return (
        f"Values computed from the input's height and width were fixed for the traced input"
        f"{f' ({size})' if size else ''}: the drawing and its code are for that size"
        f"{f' ({where})' if where else ''}. Other sizes may fail there: import again at the size you will use."
    )
