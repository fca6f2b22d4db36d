"""What a shape rule sees of one node (``RuleContext``) and the helpers the kinds' rules share.

A rule reads the incoming shapes (batch dimension ``None``, shown as N), fills the layer's auto parameters
(``in_features``, ``in_channels`` ...) unless the user pinned them, and returns the output shape, or raises
``ShapeError`` with a message that names the node and the fix. A kind without a rule passes its input through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.errors import ShapeError

Shape = tuple[int | None, ...]


def fmt(shape: Shape | None) -> str:
    if shape is None:
        return "[?]"
    return "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"


def numel(shape: Shape) -> int:
    return math.prod(int(d) for d in shape if d is not None)


@dataclass
class RuleContext:
    """What a rule sees of one node."""

    node_id: str
    name: str
    layer: str
    params: dict[str, Any]  # defaults + user values; auto values are added by ``auto``
    pinned: set[str]
    ins: list[Shape]
    in_dtypes: list[str]
    sources: list[str]  # names of the nodes feeding each input
    dtype: str = "float32"  # dtype of the output
    auto_values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # legal but probably not meant: shown, never blocking

    @property
    def x(self) -> Shape:
        return self.ins[0]

    def fail(self, message: str) -> ShapeError:
        return ShapeError(message, self.node_id)

    def auto(self, key: str, inferred: Any) -> Any:
        """The pinned value if the user set one, else the inferred one (recorded as auto-filled)."""
        if key in self.pinned and self.params.get(key) is not None:
            return self.params[key]
        self.params[key] = inferred
        self.auto_values[key] = inferred
        return inferred

    def need_rank(self, ranks: tuple[int, ...], what: str, fix: str) -> Shape:
        x = self.x
        if len(x) not in ranks:
            raise self.fail(f"{self.name} expects {what} but receives {fmt(x)}: {fix}")
        return x


def as_tuple(value: Any, dims: int) -> tuple[int, ...]:
    """A size parameter (3 or [3, 5]) as one number per dimension."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * dims


def spatial_name(dims: int) -> str:
    return {1: "sequences [N, C, L]", 2: "images [N, C, H, W]"}.get(dims, "volumes [N, C, D, H, W]")


def rank_fix(ctx: RuleContext, dims: int) -> str:
    """The fix for a layer over ``dims`` spatial dimensions that receives a tensor of another rank."""
    x = ctx.x
    if dims == 2 and len(x) == 2:
        side = math.isqrt(x[1] or 0)
        if side * side == x[1]:
            return f"add an Unflatten with unflattened_size [1, {side}, {side}] before it"
        return "add an Unflatten or Reshape before it that gives [N, C, H, W]"
    if dims == 2 and len(x) == 3:
        return f"set the Input shape to [1, {x[1]}, {x[2]}] (one channel), or add an Unflatten before it"
    if dims == 1 and len(x) == 2:
        return f"add an Unflatten with unflattened_size [1, {x[1]}] before it"
    return "use a layer made for this many dimensions, or reshape the tensor before it"


def norm_dim(ctx: RuleContext, dim: int, rank: int, what: str) -> int:
    """``dim`` counted from the front (negative counts from the end); the batch dimension is refused."""
    d = dim + rank if dim < 0 else dim
    if not 1 <= d < rank:
        raise ctx.fail(f"{ctx.name}: {what} {dim} does not exist in {fmt(ctx.x)} (dimension 0 is the batch)")
    return d


def channels(ctx: RuleContext, key: str) -> int:
    """The input's channels (dimension 1), filled into ``key`` or checked against its pinned value."""
    c = int(ctx.x[1])  # type: ignore[arg-type]
    expected = ctx.auto(key, c)
    if expected != c:
        raise ctx.fail(
            f"{ctx.name} expects {expected} input channels but receives {fmt(ctx.x)} ({c} channels): "
            f"set {key} to {c}, or unpin it so it follows the input"
        )
    return c
