"""A kind's Keras 3 counterpart: the ``KerasLayer`` calls a node becomes, and the helpers the kinds share.

Images stay channels-first ([N, C, H, W], as PyTorch and our data loaders give them): every image layer gets
``data_format="channels_first"``, which the torch backend runs natively, so ``Flatten`` orders features as
``nn.Flatten`` does and the Dense layer after it sees the same inputs. A kind without a mapping, or a parameter
value Keras cannot express (``NoEquivalent``), makes the whole export fail with one message naming every such
layer (``core.code.keras_code``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo

CF = 'data_format="channels_first"'


class NoEquivalent(Exception):
    """This node's parameters have no Keras equivalent; the message says which and why."""


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer call: ``head(args, name=...)``; ``suffix`` names the helper layers a node needs."""

    head: str
    args: tuple[str, ...] = ()
    note: str = ""  # a comment where Keras differs from PyTorch
    suffix: str = ""  # appended to the node's name: conv1_pad, lstm_2
    fewer_params: int = 0  # trainable parameters Keras has fewer than PyTorch (an LSTM's second bias)


Mapper = Callable[["NodeInfo"], list[KerasLayer]]


def rank(info: NodeInfo) -> int:
    """Dimensions of the first input, batch included (4 for images)."""
    shape = info.in_shapes[0] if info.in_shapes else None
    return len(shape) if shape else 0


def pair(value: Any) -> str:
    return literal(value) if isinstance(value, (list, tuple)) else literal(int(value))


def uniform(value: Any) -> int | None:
    """The one number of a size parameter (3 or [3, 3]), or None when its items differ."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    return int(items[0]) if len(set(items)) == 1 else None


def bias(p: dict[str, Any], key: str = "bias") -> list[str]:
    return [] if p.get(key, True) else ["use_bias=False"]


def affine(flag: Any) -> list[str]:
    return [] if flag else ["center=False", "scale=False"]


def axis(info: NodeInfo) -> int:
    """The ``dim`` parameter as a Keras axis (counted from the front)."""
    dim = int(info.params.get("dim", 1))
    return dim if dim >= 0 else dim + rank(info)


def simple(head: str, *args: str) -> Mapper:
    """A mapping to one Keras layer with fixed arguments."""
    return lambda info: [KerasLayer(head, args)]


def reshape(info: NodeInfo) -> list[KerasLayer]:
    if info.out_shape is None:  # pragma: no cover - codegen refuses graphs with unknown shapes first
        raise NoEquivalent("its output shape is unknown")
    return [KerasLayer("layers.Reshape", (literal(list(info.out_shape[1:])),), "same element order as PyTorch")]
