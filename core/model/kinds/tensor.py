"""Tensor layers: what published models write as tensor code rather than as layers (a slice ``x[:, :, 2:30]``,
``F.pad``, reflection and replication padding, ``x * 4.0``) and a tensor the network learns that is used directly in
forward (ViT's class token and position embedding, ConvNeXt's layer scale).

The learned tensor is an ``nn.Parameter`` attribute of the class that holds it (the generated file defines a small
``LearnedTensor`` that makes it), so its ``state_dict`` key is the original's (``class_token``,
``features.1.0.layer_scale``), not that of a module wrapped around it.
"""

from __future__ import annotations

import math

from core.model.kinds.kind import P, kind, size, torch_size
from core.model.kinds.shapes import RuleContext, Shape, as_tuple, fmt, norm_dim, rank_fix
from core.model.kinds.spec import DOCS

SLICE = '''
class Slice(nn.Module):
    """x[start:end:step] along one dimension (no weights), as x[:, :, 2:30] reads."""

    def __init__(
        self, dim: int, start: int = 0, end: int | None = None, step: int = 1
    ) -> None:
        super().__init__()
        self.dim, self.index = dim, slice(start, end, step)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[(slice(None),) * self.dim + (self.index,)]
'''

LEARNED_TENSOR = '''
class LearnedTensor:
    """A tensor the network learns (a class token, a position embedding, a scale): an
    nn.Parameter of this shape. start 1: its first dimension is the batch's (size 1)."""

    def __new__(cls, shape: tuple[int, ...], start: int = 1) -> nn.Parameter:
        return nn.Parameter(torch.zeros(shape))

    def __init__(self, shape: tuple[int, ...], start: int = 1) -> None:
        pass  # never called: __new__ gives the parameter itself
'''


def _slice(ctx: RuleContext) -> Shape:
    x = ctx.x
    d = norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    start, end, step = ctx.params["start"], ctx.params["end"], ctx.params["step"]
    kept = len(range(*slice(start, end, step).indices(int(x[d]))))  # type: ignore[arg-type]
    if kept == 0:
        raise ctx.fail(
            f"{ctx.name} keeps {start}:{'' if end is None else end}:{step} of dimension {d} of {fmt(x)}: "
            "nothing is left; change start and end"
        )
    return (*x[:d], kept, *x[d + 1 :])


def _pad(ctx: RuleContext) -> Shape:
    """F.pad's order: the last dimension's left and right first, then the one before ..."""
    x = ctx.x
    pads = [int(p) for p in ctx.params["padding"]]
    if len(pads) % 2 or len(pads) // 2 > len(x) - 1:
        raise ctx.fail(
            f"{ctx.name}: padding {pads} must be pairs (left, right) for at most the {len(x) - 1} dimensions "
            f"after the batch of {fmt(x)}"
        )
    out = list(x)
    for i in range(len(pads) // 2):
        d = len(x) - 1 - i
        out[d] = int(x[d]) + pads[2 * i] + pads[2 * i + 1]  # type: ignore[arg-type]
        if out[d] < 1:  # type: ignore[operator]
            raise ctx.fail(f"{ctx.name}: padding {pads} removes all of dimension {d} of {fmt(x)}")
    return tuple(out)


def _pad2d(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", rank_fix(ctx, 2))
    left, right, top, bottom = as_tuple(ctx.params["padding"], 4)
    if ctx.layer == "ReflectionPad2d" and (max(left, right) >= int(x[3]) or max(top, bottom) >= int(x[2])):  # type: ignore[arg-type]
        raise ctx.fail(
            f"{ctx.name} reflects {max(left, right, top, bottom)} values at the border of {fmt(x)}: the padding "
            "must be smaller than the height and width"
        )
    return (*x[:2], int(x[2]) + top + bottom, int(x[3]) + left + right)  # type: ignore[arg-type]


def _learned(ctx: RuleContext) -> Shape:
    shape = [int(d) for d in ctx.params["shape"]]
    if ctx.params["start"]:
        if shape[0] != 1 or len(shape) < 2:
            raise ctx.fail(
                f"{ctx.name}: with start 1 its shape {shape} begins with the batch's 1, e.g. [1, 1, 768]; "
                "set start to 0 for a tensor without it"
            )
        shape = shape[1:]
    ctx.dtype = "float32"
    return (ctx.x[0], *shape)


KINDS = (
    kind(
        "Slice",
        "Shape",
        "Keeps start:end:step of one dimension, e.g. the centre of an image (x[:, :, 2:30]) or every second row.",
        P(
            "dim",
            "int",
            2,
            "Dimension to cut (1: channels or features; 2 and 3: height and width).",
            min=1,
            max=8,
            positional=True,
        ),
        P("start", "int", 0, "First index kept (negative counts from the end).", min=-100_000, max=100_000),
        P("end", "int", None, "Index after the last one kept (empty: to the end).", optional=True, min=-100_000),
        P("step", "int", 1, "Keep every step-th value.", min=1, max=100_000),
        rule=_slice,
        torch_class="Slice",
        prefix="slice",
        memory="input",
        dtype_neutral=True,
        doc="https://pytorch.org/docs/stable/tensor_view.html",
        helper=SLICE,
    ),
    kind(
        "Pad",
        "Shape",
        "Adds a constant around the last dimensions, as F.pad: [left, right] of the last, then of the one before.",
        P(
            "padding",
            "ints",
            [1, 1],
            "Values added: left and right of the last dimension, then of the one before.",
            min=-100_000,
        ),
        P("value", "float", 0.0, "The value added."),
        rule=_pad,
        torch_class=None,
        prefix="pad",
        forward="torch.nn.functional.pad({x}, [{padding}], value={value})",
        doc=f"{DOCS}generated/torch.nn.functional.pad.html",
    ),
    *(
        kind(
            f"{how}Pad2d",
            "Shape",
            f"Pads images with their own border values ({what}): one number for every side, or left, right, top, "
            "bottom (style transfer networks pad so).",
            size(
                "padding",
                1,
                "Values added: one number for all sides, or [left, right, top, bottom].",
                4,
                min=0,
                positional=True,
            ),
            rule=_pad2d,
            from_torch=lambda m: {"padding": torch_size(m.padding)},
            prefix="pad",
        )
        for how, what in (("Reflection", "mirrored"), ("Replication", "repeated"))
    ),
    kind(
        "LearnedTensor",
        "Shape",
        "A tensor the network learns, given for each sample of the batch: a class token, a position embedding or "
        "a scale used directly in forward (its input only gives the batch size).",
        P("shape", "ints", [1, 1, 8], "The tensor's shape, as saved.", min=1, positional=True),
        P(
            "start",
            "int",
            1,
            "1: its first dimension is the batch's (size 1, as a class token [1, 1, D]); 0: it has none (a scale "
            "[C, 1, 1]).",
            min=0,
            max=1,
            codegen=False,
        ),
        rule=_learned,
        count=lambda p: math.prod(int(d) for d in p["shape"]),
        torch_class="LearnedTensor",
        display="Learned tensor",
        prefix="param",
        memory="shared",
        forward="{module}.expand({x}.shape[0], *{module}.shape[{start}:])",
        doc=f"{DOCS}torch.nn.parameter.Parameter.html",
        helper=LEARNED_TENSOR,
    ),
    kind(
        "Scale",
        "Shape",
        "Multiplies by a fixed number, e.g. token embeddings by sqrt(d_model) before a Transformer (x * factor).",
        P("factor", "float", 1.0, "The number every value is multiplied by.", always=True),
        torch_class=None,
        prefix="scale",
        forward="{x} * {factor}",
        doc="https://pytorch.org/docs/stable/generated/torch.mul.html",
    ),
)
