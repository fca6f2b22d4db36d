"""The catalog's Merge entries (Add, Multiply, Concat: several tensors in, one out): imported by
``core.model.layers``, so they register with the rest, in palette order."""

from __future__ import annotations

from core.model.catalog import DOCS, ParamSpec
from core.model.layers import P, _dim, _layer


def _merge(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    num = P("num_inputs", "int", 2, "How many tensors to combine.", min=2, max=8, codegen=False)
    return (num, *extra)


# --- Merge -------------------------------------------------------------------------------------------------
_layer(
    "Add",
    "Merge",
    "Adds tensors of the same shape element by element (residual connections).",
    *_merge(),
    torch_class=None,
    inputs=2,
    prefix="add",
    forward="{sum}",
    dtype_neutral=True,
    doc=f"{DOCS}torch.add.html",
)
_layer(
    "Multiply",
    "Merge",
    "Multiplies tensors of the same shape element by element (gating).",
    *_merge(),
    torch_class=None,
    inputs=2,
    prefix="mul",
    forward="{product}",
    dtype_neutral=True,
    doc=f"{DOCS}torch.mul.html",
)
_layer(
    "Concat",
    "Merge",
    "Joins tensors along a dimension (1: channels or features).",
    *_merge((_dim(1, "Dimension to join along (1: channels or features)."),)),
    torch_class=None,
    inputs=2,
    prefix="cat",
    forward="torch.cat([{args}], dim={dim})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.cat.html",
)
