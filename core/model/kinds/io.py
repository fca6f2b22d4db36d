"""Where data enters and leaves the network: Input and Output."""

from __future__ import annotations

from core.model.kinds.kind import P, kind
from core.model.kinds.shapes import RuleContext, Shape


def _input(ctx: RuleContext) -> Shape:
    ctx.dtype = ctx.params.get("dtype", "float32")
    return (None, *(int(d) for d in ctx.params["shape"]))


INPUT = kind(
    "Input",
    "Input",
    "Where data enters the network; shape excludes the batch dimension N.",
    P("shape", "ints", [1, 28, 28], "Shape of one sample, without the batch dimension.", min=1),
    P(
        "dtype",
        "choice",
        "float32",
        "float32 for measurements and pixels, int64 for token ids.",
        choices=("float32", "int64"),
        codegen=False,
    ),
    rule=_input,
    torch_class=None,
    inputs=0,
    prefix="x",
    accepts_tokens=True,
    doc="https://pytorch.org/docs/stable/tensors.html",
)
OUTPUT = kind(
    "Output",
    "Output",
    "What the network returns (for classification: one score per class).",
    torch_class=None,
    outputs=0,
    prefix="output",
    dtype_neutral=True,
    doc="https://pytorch.org/docs/stable/generated/torch.nn.Module.html",
)

KINDS = (INPUT, OUTPUT)
