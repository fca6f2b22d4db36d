"""Shape rules and parameter counts of the convolutional building blocks: convolution, upsampling, pooling and
normalization. They register into ``core.model.shape_rules.RULES`` / ``PARAM_COUNTS`` when
``core.model.shape_rules`` loads."""

from __future__ import annotations

import math
from typing import Any

from core.model.catalog import LAYERS
from core.model.shape_rules import (
    PARAM_COUNTS,
    RuleContext,
    Shape,
    _rank_fix,
    _spatial_name,
    _tuple,
    count,
    fmt,
    numel,
    rule,
)


# --- Convolution -----------------------------------------------------------------------------------------------
def _channels(ctx: RuleContext, key: str) -> int:
    c = int(ctx.x[1])  # type: ignore[arg-type]
    expected = ctx.auto(key, c)
    if expected != c:
        raise ctx.fail(
            f"{ctx.name} expects {expected} input channels but receives {fmt(ctx.x)} ({c} channels): "
            f"set {key} to {c}, or unpin it so it follows the input"
        )
    return c


def _check_groups(ctx: RuleContext, c_in: int) -> None:
    groups, c_out = ctx.params.get("groups", 1), ctx.params["out_channels"]
    if c_in % groups or c_out % groups:
        raise ctx.fail(
            f"{ctx.name} splits channels into {groups} groups, but {c_in} input and {c_out} output channels "
            f"must both be divisible by {groups}: change groups or out_channels"
        )


def _padding(ctx: RuleContext, dims: int, k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...]) -> list[int]:
    """Padding per spatial dimension (the larger side for "same"); torch refuses "same" with a stride."""
    padding = ctx.params["padding"]
    if padding == "valid":
        return [0] * dims
    if padding != "same":
        return list(_tuple(padding, dims))
    if any(step > 1 for step in s):
        raise ctx.fail(
            f'{ctx.name}: padding "same" only works with stride 1 (PyTorch refuses it with stride '
            f"{ctx.params['stride']}): set stride to 1 and add a pooling layer, or use a number for padding"
        )
    return [(d[i] * (k[i] - 1) + 1) // 2 for i in range(dims)]


def _check_padding_mode(ctx: RuleContext, pad: list[int]) -> None:
    """reflect mirrors the input, circular wraps it: neither can pad more than the input holds."""
    mode = ctx.params.get("padding_mode", "zeros")
    for i, side in enumerate(pad):
        length = int(ctx.x[2 + i])  # type: ignore[arg-type]
        if (mode == "reflect" and side >= length) or (mode == "circular" and side > length):
            raise ctx.fail(
                f"{ctx.name}: padding_mode {mode} cannot pad {side} values on a side of {fmt(ctx.x)} (at most "
                f"{length - 1 if mode == 'reflect' else length}): use less padding, or padding_mode zeros or replicate"
            )


def _conv_out(ctx: RuleContext, dims: int, transposed: bool = False) -> Shape:
    x = ctx.x
    p = ctx.params
    k, s = _tuple(p["kernel_size"], dims), _tuple(p["stride"], dims)
    d = _tuple(p["dilation"], dims)
    pad = _padding(ctx, dims, k, s, d)
    _check_padding_mode(ctx, pad)
    same = p["padding"] == "same"
    sizes = []
    for i in range(dims):
        length = int(x[2 + i])  # type: ignore[arg-type]
        if transposed:
            op = _tuple(p["output_padding"], dims)[i]
            if op >= max(s[i], d[i]):
                raise ctx.fail(f"{ctx.name}: output_padding ({op}) must be smaller than stride or dilation")
            out = (length - 1) * s[i] - 2 * pad[i] + d[i] * (k[i] - 1) + op + 1
        else:
            out = length if same else (length + 2 * pad[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
        if out <= 0:
            kernel = "x".join(map(str, k))
            raise ctx.fail(
                f"{ctx.name}'s kernel ({kernel}) is larger than its input {fmt(x)}: use a smaller kernel_size, "
                f"add padding, or remove a pooling layer before it"
            )
        sizes.append(out)
    return (x[0], p["out_channels"], *sizes)


def kernel_dims(ctx: RuleContext) -> int:
    """1 for a layer over sequences [N, C, L], 2 over images: how many numbers its catalog kernel_size holds."""
    return LAYERS[ctx.layer].param("kernel_size").dims


def _convolution(ctx: RuleContext, transposed: bool) -> Shape:
    dims = kernel_dims(ctx)
    ctx.need_rank((dims + 2,), _spatial_name(dims), _rank_fix(ctx, dims))
    c_in = _channels(ctx, "in_channels")
    _check_groups(ctx, c_in)
    return _conv_out(ctx, dims, transposed=transposed)


@rule("Conv1d", "Conv2d", "Conv3d")
def _conv(ctx: RuleContext) -> Shape:
    return _convolution(ctx, transposed=False)


@rule("ConvTranspose2d")
def _conv_transpose(ctx: RuleContext) -> Shape:
    return _convolution(ctx, transposed=True)


def conv_count(dims: int, p: dict[str, Any]) -> int:
    k = math.prod(_tuple(p["kernel_size"], dims))
    weights = p["in_channels"] // p["groups"] * p["out_channels"] * k
    return int(weights + (p["out_channels"] if p["bias"] else 0))


PARAM_COUNTS["Conv1d"] = lambda p: conv_count(1, p)
PARAM_COUNTS["Conv2d"] = lambda p: conv_count(2, p)
PARAM_COUNTS["Conv3d"] = lambda p: conv_count(3, p)
PARAM_COUNTS["ConvTranspose2d"] = lambda p: conv_count(2, p)


@rule("Upsample")
def _upsample(ctx: RuleContext) -> Shape:
    if ctx.params["mode"] == "bilinear":
        x = ctx.need_rank((4,), "images [N, C, H, W] for bilinear mode", "use mode nearest, or reshape first")
    else:
        x = ctx.need_rank((3, 4, 5), "[N, C, L] or [N, C, H, W]", _rank_fix(ctx, 2))
    scale = float(ctx.params["scale_factor"])
    sizes = [math.floor(int(d) * scale) for d in x[2:]]  # type: ignore[arg-type]
    if min(sizes) <= 0:
        raise ctx.fail(f"{ctx.name} would shrink {fmt(x)} to nothing: use a larger scale_factor")
    return (*x[:2], *sizes)


# --- Pooling ---------------------------------------------------------------------------------------------------
@rule("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d")
def _pool(ctx: RuleContext) -> Shape:
    dims = kernel_dims(ctx)
    x = ctx.need_rank((dims + 2,), _spatial_name(dims), _rank_fix(ctx, dims))
    p = ctx.params
    k = _tuple(p["kernel_size"], dims)
    s = _tuple(p["stride"], dims) if p.get("stride") is not None else k
    pad = _tuple(p["padding"], dims)
    sizes = []
    for i in range(dims):
        if pad[i] * 2 > k[i]:
            raise ctx.fail(f"{ctx.name}: padding ({pad[i]}) may be at most half the kernel size ({k[i]})")
        length = int(x[2 + i])  # type: ignore[arg-type]
        if p.get("ceil_mode"):  # torch's rule: round up, but the last window must start inside the input
            out = (length + 2 * pad[i] - k[i] + s[i] - 1) // s[i] + 1
            if (out - 1) * s[i] >= length + pad[i]:
                out -= 1
        else:
            out = (length + 2 * pad[i] - k[i]) // s[i] + 1
        if out <= 0:
            raise ctx.fail(
                f"{ctx.name}'s window ({'x'.join(map(str, k))}) is larger than its input {fmt(x)}: "
                "use a smaller kernel_size, or remove a pooling layer before it"
            )
        sizes.append(out)
    return (*x[:2], *sizes)


@rule("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
def _adaptive_pool(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", _rank_fix(ctx, 2))
    return (*x[:2], *_tuple(ctx.params["output_size"], 2))


# --- Normalization ---------------------------------------------------------------------------------------------
_NORM_RANKS = {
    "BatchNorm2d": ((4,), "images [N, C, H, W]", "use BatchNorm1d for features, or reshape first"),
    "BatchNorm3d": ((5,), "volumes [N, C, D, H, W]", "use BatchNorm2d for images, or reshape first"),
    "InstanceNorm1d": ((3,), "sequences [N, C, L]", "use InstanceNorm2d for images, or LayerNorm for features"),
    "InstanceNorm2d": ((4,), "images [N, C, H, W]", "use InstanceNorm1d for sequences, or reshape first"),
}


@rule("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d")
def _batchnorm(ctx: RuleContext) -> Shape:
    if ctx.layer in _NORM_RANKS:
        x = ctx.need_rank(*_NORM_RANKS[ctx.layer])
    else:
        x = ctx.need_rank((2, 3), "[N, C] or [N, C, L]", "use BatchNorm2d for images, or Flatten first")
    c = int(x[1])  # type: ignore[arg-type]
    if ctx.params["eps"] <= 0:  # torch refuses it whenever it normalises with the batch's statistics (training)
        raise ctx.fail(f"{ctx.name}: eps must be above 0 (PyTorch refuses 0 in training): set eps to 1e-05")
    if ctx.layer.startswith("InstanceNorm") and numel(x[2:]) < 2:
        raise ctx.fail(
            f"{ctx.name} normalises each channel of each sample over its own values, but {fmt(x)} has one value "
            "per channel: it needs more; use BatchNorm or LayerNorm here, or move it before the layer that shrinks it"
        )
    expected = ctx.auto("num_features", c)
    if expected != c:
        raise ctx.fail(
            f"{ctx.name} expects {expected} features but receives {fmt(x)}: set num_features to {c}, "
            "or unpin it so it follows the input"
        )
    return x


@count("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d")
def _batchnorm_count(p: dict[str, Any]) -> int:
    return int(2 * p["num_features"] if p["affine"] else 0)


@rule("LayerNorm")
def _layernorm(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "[N, features]", "connect a layer that produces features")
    expected = ctx.auto("normalized_shape", x[-1])
    if expected != x[-1]:
        raise ctx.fail(
            f"{ctx.name} normalises over {expected} values but the last dimension of {fmt(x)} is "
            f"{x[-1]}: set normalized_shape to {x[-1]}, or unpin it"
        )
    return x


@count("LayerNorm")
def _layernorm_count(p: dict[str, Any]) -> int:
    return int(2 * p["normalized_shape"] if p["elementwise_affine"] else 0)


@rule("GroupNorm")
def _groupnorm(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "[N, C, ...]", "connect a layer that produces channels")
    c = _channels(ctx, "num_channels")
    groups = ctx.params["num_groups"]
    if c % groups:
        divisors = ", ".join(str(d) for d in range(1, c + 1) if c % d == 0)
        raise ctx.fail(
            f"{ctx.name} splits {c} channels into {groups} groups, but {c} is not divisible by "
            f"{groups}: set num_groups to one of {divisors}"
        )
    return x


@count("GroupNorm")
def _groupnorm_count(p: dict[str, Any]) -> int:
    return int(2 * p["num_channels"] if p["affine"] else 0)


@rule("Dropout2d")
def _dropout2d(ctx: RuleContext) -> Shape:
    return ctx.need_rank((4,), "images [N, C, H, W]", "use Dropout for features and sequences")


@rule("Dropout1d")
def _dropout1d(ctx: RuleContext) -> Shape:
    return ctx.need_rank((3,), "sequences [N, C, L]", "use Dropout for features, Dropout2d for images")


# --- Padding and pixel shuffle -----------------------------------------------------------------------------------
@rule("ZeroPad2d")
def _zero_pad(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", _rank_fix(ctx, 2))
    left, right, top, bottom = _tuple(ctx.params["padding"], 4)
    return (*x[:2], int(x[2]) + top + bottom, int(x[3]) + left + right)  # type: ignore[arg-type]


@rule("PixelShuffle")
def _pixel_shuffle(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", _rank_fix(ctx, 2))
    r = ctx.params["upscale_factor"]
    c = int(x[1])  # type: ignore[arg-type]
    if c % (r * r):
        raise ctx.fail(
            f"{ctx.name} turns groups of {r}x{r} = {r * r} channels into pixels, but receives {fmt(x)} "
            f"({c} channels, not divisible by {r * r}): give the layer before it a multiple of {r * r} channels, "
            "or change upscale_factor"
        )
    return (x[0], c // (r * r), int(x[2]) * r, int(x[3]) * r)  # type: ignore[arg-type]
