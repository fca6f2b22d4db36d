"""The catalog's Shape entries (Flatten, Reshape, Permute, padding, reductions...): imported by
``core.model.layers``, so they register with the rest, in palette order."""

from __future__ import annotations

from core.model.catalog import DOCS
from core.model.layers import P, _layer, _size

# --- Shape -------------------------------------------------------------------------------------------------
_layer(
    "Flatten",
    "Shape",
    "Flattens all dimensions after the batch into one: [N, C, H, W] -> [N, C*H*W].",
    P("start_dim", "int", 1, "First dimension to flatten.", min=1, max=8),
    P("end_dim", "int", -1, "Last dimension to flatten (-1: the last).", min=-8, max=8),
    prefix="flatten",
    dtype_neutral=True,
)
_layer(
    "Unflatten",
    "Shape",
    "Splits one dimension into several, e.g. [N, 784] -> [N, 1, 28, 28].",
    P("dim", "int", 1, "Dimension to split.", min=1, max=8, positional=True),
    P("unflattened_size", "ints", [1, 28, 28], "Sizes it is split into.", min=1, positional=True),
    prefix="unflatten",
    dtype_neutral=True,
)
_layer(
    "Reshape",
    "Shape",
    "Reshapes each sample; one size may be -1 to be worked out.",
    P("shape", "ints", [-1], "New shape of one sample, without the batch dimension.", min=-1),
    torch_class=None,
    prefix="reshape",
    forward="{x}.reshape({x}.size(0), {shape})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.reshape.html",
)
_layer(
    "Permute",
    "Shape",
    "Reorders the dimensions after the batch, e.g. [N, T, F] -> [N, F, T].",
    P("dims", "ints", [2, 1], "New order of dimensions 1.. (the batch dimension stays first).", min=1),
    torch_class=None,
    prefix="permute",
    forward="{x}.permute(0, {dims})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.permute.html",
)
_layer(
    "ZeroPad2d",
    "Shape",
    "Adds zeros around images: one number for every side, or left, right, top, bottom.",
    _size(
        "padding", 1, "Zeros added: one number for all sides, or [left, right, top, bottom].", 4, min=0, positional=True
    ),
    prefix="pad",
)
_layer(
    "Mean",
    "Shape",
    "Averages over one dimension, e.g. over the time steps of [N, T, D] -> [N, D] (before a Transformer's head).",
    P("dim", "int", 1, "Dimension to average over (1: the time steps or tokens).", min=-8, max=8),
    torch_class=None,
    prefix="mean",
    forward="{x}.mean(dim={dim})",
    doc=f"{DOCS}torch.mean.html",
)
_layer(
    "TakeToken",
    "Shape",
    "Keeps one time step or token of [N, T, D] -> [N, D] (0: the first, e.g. a class token; -1: the last).",
    P("index", "int", 0, "Which step or token to keep (negative counts from the end).", min=-4096, max=4096),
    torch_class=None,
    display="Take token",
    prefix="token",
    forward="{x}[:, {index}]",
    dtype_neutral=True,
    doc="https://pytorch.org/docs/stable/tensor_view.html",
)
_layer(
    "Identity", "Shape", "Passes its input through unchanged (a placeholder).", prefix="identity", dtype_neutral=True
)
