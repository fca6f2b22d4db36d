"""Merges: several tensors in, one out (Add, Multiply, Concat); their input count is the num_inputs parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.model.kinds.keras import KerasLayer, axis, simple
from core.model.kinds.kind import P, dim, kind
from core.model.kinds.shapes import RuleContext, Shape, fmt, norm_dim
from core.model.kinds.spec import DOCS, ParamSpec

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _params(extra: tuple[ParamSpec, ...] = (), most: int = 8) -> tuple[ParamSpec, ...]:
    num = P("num_inputs", "int", 2, "How many tensors to combine.", min=2, max=most, codegen=False)
    return (num, *extra)


def _listing(ctx: RuleContext) -> str:
    return " and ".join(f"{fmt(s)} (from {src})" for s, src in zip(ctx.ins, ctx.sources, strict=False))


def _broadcast(shapes: list[Shape]) -> Shape | None:
    """The shape torch gives tensors of one rank combined element by element: along each axis the sizes agree,
    or those of 1 are repeated to the others' size (squeeze-and-excitation: [N, C, 1, 1] * [N, C, H, W]); None
    when they cannot be combined. Only same-rank tensors broadcast here: a missing axis is too easily a mistake."""
    if len({len(s) for s in shapes}) > 1:
        return None
    out: list[int | None] = []
    for sizes in zip(*shapes, strict=True):
        others = {d for d in sizes if d != 1}
        if len(others) > 1:
            return None
        out.append(others.pop() if others else 1)
    return tuple(out)


def _elementwise(ctx: RuleContext) -> Shape:
    shape = ctx.x if len(set(ctx.ins)) == 1 else _broadcast(ctx.ins)
    if shape is None:
        verb = "adds" if ctx.layer == "Add" else "multiplies"
        raise ctx.fail(
            f"{ctx.name} {verb} tensors of different shapes {_listing(ctx)}: "
            "they must be the same shape; change the layers before it so they match"
        )
    if len(set(ctx.in_dtypes)) > 1:
        raise ctx.fail(f"{ctx.name} combines token ids with decimal numbers: use an Embedding first")
    ctx.dtype = ctx.in_dtypes[0]
    return shape


def _concat(ctx: RuleContext) -> Shape:
    ranks = {len(s) for s in ctx.ins}
    if len(ranks) > 1:
        raise ctx.fail(
            f"{ctx.name} joins tensors with different numbers of dimensions {_listing(ctx)}: reshape them to match"
        )
    rank = ranks.pop()
    d = norm_dim(ctx, ctx.params["dim"], rank, "dim")
    for i in range(rank):
        if i != d and len({s[i] for s in ctx.ins}) > 1:
            raise ctx.fail(
                f"{ctx.name} joins along dimension {d}, but the tensors differ in dimension {i}: "
                f"{_listing(ctx)}; all other dimensions must match"
            )
    ctx.dtype = ctx.in_dtypes[0]
    joined = sum(int(s[d] or 0) for s in ctx.ins)
    return (*ctx.x[:d], joined, *ctx.x[d + 1 :])


def _concat_keras(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Concatenate", (f"axis={axis(info)}",))]


KINDS = (
    kind(
        "Add",
        "Merge",
        "Adds tensors element by element (residual connections); a size of 1 is repeated to match the other.",
        *_params(),
        rule=_elementwise,
        keras=simple("layers.Add"),
        torch_class=None,
        inputs=2,
        prefix="add",
        forward="{sum}",
        dtype_neutral=True,
        doc=f"{DOCS}torch.add.html",
    ),
    kind(
        "Multiply",
        "Merge",
        "Multiplies tensors element by element (gating: [N, C, 1, 1] scales each channel of [N, C, H, W]).",
        *_params(),
        rule=_elementwise,
        keras=simple("layers.Multiply"),
        torch_class=None,
        inputs=2,
        prefix="mul",
        forward="{product}",
        dtype_neutral=True,
        doc=f"{DOCS}torch.mul.html",
    ),
    kind(
        "Concat",
        "Merge",
        "Joins tensors along a dimension (1: channels or features).",
        # a DenseNet layer joins every earlier layer's output (49 in densenet201)
        *_params((dim(1, "Dimension to join along (1: channels or features)."),), most=256),
        rule=_concat,
        keras=_concat_keras,
        torch_class=None,
        inputs=2,
        prefix="cat",
        forward="torch.cat([{args}], dim={dim})",
        dtype_neutral=True,
        doc=f"{DOCS}torch.cat.html",
    ),
)
