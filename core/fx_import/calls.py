"""The pieces every call mapper is made of: ``Layer`` (what a call becomes), ``Unsupported`` (why it cannot),
and reading a call's arguments (a number written in the code, not a value computed from the data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import fx

from core.fx_import.fold import BATCH
from core.fx_import.trace import shape_of


class Unsupported(Exception):
    """This call has no TorchCanvas layer; the message says why (no traceback is shown)."""


@dataclass
class Layer:
    type: str
    params: dict[str, Any]
    inputs: list[fx.Node] = field(default_factory=list)
    then: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # layers that follow in a chain


def size(value: Any) -> Any:
    """A torch size tuple as the catalog wants it: one number when all are equal, else a list."""
    if isinstance(value, (tuple, list)):
        items = [int(v) for v in value]
        return items[0] if len(set(items)) == 1 else items
    return value


def arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def tensor_arg(node: fx.Node, index: int = 0) -> fx.Node:
    value = arg(node, index, "input", None)
    if not isinstance(value, fx.Node):
        raise Unsupported("its input is not a tensor from the network")
    return value


def const(value: Any, what: str) -> Any:
    if isinstance(value, fx.Node):
        raise Unsupported(f"its {what} is computed from the data; write it as a number")
    if value is BATCH:
        raise Unsupported(f"its {what} is the batch size, which changes from batch to batch; write it as a number")
    return value


def rank(x: fx.Node) -> int:
    shape = shape_of(x)
    if shape is None:
        raise Unsupported("the shape of its input is unknown")
    return len(shape)
