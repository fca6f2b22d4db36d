"""Convolutions over sequences, images and volumes, the transposed convolution, and the upsampling layers
(Upsample, PixelShuffle)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from core.model.kinds.keras import CF, KerasLayer, Mapper, NoEquivalent, bias, pair, rank, uniform
from core.model.kinds.kind import Count, FromTorch, LayerKind, NotImportable, P, Rule, auto, kind, size, torch_size
from core.model.kinds.shapes import RuleContext, Shape, as_tuple, channels, fmt, rank_fix, spatial_name
from core.model.kinds.spec import ParamSpec
from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _params(dims: int, transposed: bool = False) -> tuple[ParamSpec, ...]:
    padding = (
        size("padding", 0, "Zeros added on each side of the input.", dims, min=0)
        if transposed
        else size(
            "padding",
            0,
            'Values added on each side of the input; "same" keeps the size (stride 1 only), "valid" adds none.',
            dims,
            min=0,
            choices=("same", "valid"),
        )
    )
    modes = (
        ()
        if transposed
        else (
            P(
                "padding_mode",
                "choice",
                "zeros",
                "What the padding holds: zeros, a mirror of the edge (reflect), the edge repeated, or the far side.",
                choices=("zeros", "reflect", "replicate", "circular"),
            ),
        )
    )
    return (
        auto("in_channels", "Channels of the incoming tensor (filled from the input shape)."),
        P("out_channels", "int", 32, "Number of filters, i.e. channels this layer produces.", min=1, positional=True),
        size("kernel_size", 3, "Size of each filter.", dims, min=1, always=True),
        size("stride", 1, "Step between filter positions.", dims, min=1),
        padding,
        size("dilation", 1, "Spacing between filter taps.", dims, min=1),
        P("groups", "int", 1, "Split channels into groups convolved separately.", min=1),
        P("bias", "bool", True, "Learn an additive bias per output channel."),
        *modes,
    )


# --- shapes --------------------------------------------------------------------------------------------------
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
        return list(as_tuple(padding, dims))
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
    k, s = as_tuple(p["kernel_size"], dims), as_tuple(p["stride"], dims)
    d = as_tuple(p["dilation"], dims)
    pad = _padding(ctx, dims, k, s, d)
    _check_padding_mode(ctx, pad)
    same = p["padding"] == "same"
    sizes = []
    for i in range(dims):
        length = int(x[2 + i])  # type: ignore[arg-type]
        if transposed:
            op = as_tuple(p["output_padding"], dims)[i]
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


def _convolution(dims: int, transposed: bool = False) -> Rule:
    def rule(ctx: RuleContext) -> Shape:
        ctx.need_rank((dims + 2,), spatial_name(dims), rank_fix(ctx, dims))
        c_in = channels(ctx, "in_channels")
        _check_groups(ctx, c_in)
        return _conv_out(ctx, dims, transposed=transposed)

    return rule


def _count(dims: int) -> Count:
    def count(p: dict[str, Any]) -> int:
        k = math.prod(as_tuple(p["kernel_size"], dims))
        weights = p["in_channels"] // p["groups"] * p["out_channels"] * k
        return int(weights + (p["out_channels"] if p["bias"] else 0))

    return count


def _upsample(ctx: RuleContext) -> Shape:
    if ctx.params.get("align_corners") and ctx.params["mode"] != "bilinear":
        raise ctx.fail(
            f"{ctx.name} aligns corners only in bilinear mode: choose mode bilinear, or untick align_corners"
        )
    if ctx.params["mode"] == "bilinear":
        x = ctx.need_rank((4,), "images [N, C, H, W] for bilinear mode", "use mode nearest, or reshape first")
    else:
        x = ctx.need_rank((3, 4, 5), "[N, C, L] or [N, C, H, W]", rank_fix(ctx, 2))
    scale = float(ctx.params["scale_factor"])
    sizes = [math.floor(int(d) * scale) for d in x[2:]]  # type: ignore[arg-type]
    if min(sizes) <= 0:
        raise ctx.fail(f"{ctx.name} would shrink {fmt(x)} to nothing: use a larger scale_factor")
    return (*x[:2], *sizes)


def upsample_params(size: Any, scale: Any, mode: Any, align_corners: Any, recompute: Any = None) -> dict[str, Any]:
    """nn.Upsample's or F.interpolate's settings as the Upsample layer's; NotImportable for what it lacks."""
    if size is not None or scale is None:
        raise NotImportable("an upsampling to a fixed size (size=...) is not supported: give scale_factor instead")
    if mode not in ("nearest", "bilinear"):
        raise NotImportable(f"upsampling mode {mode!r} is not supported (nearest, bilinear)")
    scales = {float(s) for s in scale} if isinstance(scale, (tuple, list)) else {float(scale)}
    if len(scales) != 1:
        raise NotImportable(f"a different scale per dimension ({list(scale)}) is not supported")
    factor = scales.pop()
    if recompute and not factor.is_integer():  # a whole scale recomputed is the same scale: the same values
        raise NotImportable(f"recompute_scale_factor=True with scale_factor {factor} is not supported")
    params: dict[str, Any] = {"scale_factor": factor, "mode": mode}
    if align_corners:
        params["align_corners"] = True
    return params


def _pixel_shuffle(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", rank_fix(ctx, 2))
    r = ctx.params["upscale_factor"]
    c = int(x[1])  # type: ignore[arg-type]
    if c % (r * r):
        raise ctx.fail(
            f"{ctx.name} turns groups of {r}x{r} = {r * r} channels into pixels, but receives {fmt(x)} "
            f"({c} channels, not divisible by {r * r}): give the layer before it a multiple of {r * r} channels, "
            "or change upscale_factor"
        )
    return (x[0], c // (r * r), int(x[2]) * r, int(x[3]) * r)  # type: ignore[arg-type]


# --- import from torch -----------------------------------------------------------------------------------------
def _from_torch(transposed: bool = False) -> FromTorch:
    def read(m: Any) -> dict[str, Any]:
        params = {
            "out_channels": m.out_channels,
            "kernel_size": torch_size(m.kernel_size),
            "stride": torch_size(m.stride),
            "padding": m.padding if isinstance(m.padding, str) else torch_size(m.padding),
            "dilation": torch_size(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        }
        if transposed:
            params["output_padding"] = torch_size(m.output_padding)
        else:
            params["padding_mode"] = m.padding_mode
        return params

    return read


# --- Keras -----------------------------------------------------------------------------------------------------
def _keras_padding(p: dict[str, Any], dims: int, kernel: Any) -> tuple[str, list[KerasLayer]]:
    """Keras pads "valid" or "same": PyTorch's numeric padding becomes "same" where that is what it is
    (stride 1, odd kernel, padding = dilation * (kernel - 1) / 2) and otherwise a ZeroPadding layer first."""
    if p.get("padding") in ("same", "valid"):
        return str(p["padding"]), []
    pad, k, stride, dil = (
        uniform(p.get(n, d)) for n, d in (("padding", 0), ("kernel_size", kernel), ("stride", 1), ("dilation", 1))
    )
    if pad == 0:
        return "valid", []
    if pad is not None and k is not None and dil is not None and stride == 1 and k % 2 and pad == dil * (k - 1) // 2:
        return "same", []
    if dims == 1:  # ZeroPadding1D pads the second axis, which is the channels in [N, C, L]
        raise NoEquivalent("Keras pads a channels-first sequence only as 'same' (stride 1, odd kernel)")
    return "valid", [KerasLayer("layers.ZeroPadding2D", (pair(p["padding"]), CF), suffix="_pad")]


def _keras(dims: int) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        p = info.params
        padding, before = _keras_padding(p, dims, 3)
        args = [literal(p["out_channels"]), pair(p["kernel_size"])]
        if uniform(p.get("stride", 1)) != 1:
            args.append(f"strides={pair(p['stride'])}")
        args.append(f'padding="{padding}"')
        if uniform(p.get("dilation", 1)) != 1:
            args.append(f"dilation_rate={pair(p['dilation'])}")
        if p.get("groups", 1) != 1:
            args.append(f"groups={literal(p['groups'])}")
        args += [*bias(p), CF]
        return [*before, KerasLayer(f"layers.Conv{dims}D", tuple(args))]

    return mapper


def _keras_transpose(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    if p.get("groups", 1) != 1:
        raise NoEquivalent("groups > 1 has no Keras Conv2DTranspose equivalent")
    args = [literal(p["out_channels"]), pair(p["kernel_size"]), f"strides={pair(p.get('stride', 1))}"]
    args.append('padding="valid"')
    if uniform(p.get("output_padding", 0)) != 0:
        args.append(f"output_padding={pair(p['output_padding'])}")
    if uniform(p.get("dilation", 1)) != 1:
        args.append(f"dilation_rate={pair(p['dilation'])}")
    layers = [KerasLayer("layers.Conv2DTranspose", (*args, *bias(p), CF))]
    if uniform(p.get("padding", 0)) != 0:  # PyTorch's padding crops the output
        note = "PyTorch's padding crops the output"
        layers.append(KerasLayer("layers.Cropping2D", (pair(p["padding"]), CF), note, suffix="_crop"))
    return layers


def _keras_upsample(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    scale = float(p.get("scale_factor", 2.0))
    if not scale.is_integer():
        raise NoEquivalent(f"scale_factor {scale} is not a whole number (Keras upsamples by whole factors)")
    if p.get("align_corners"):
        raise NoEquivalent(
            "align_corners=True has no Keras equivalent: UpSampling2D's bilinear mode computes what "
            "align_corners=False does. Untick align_corners to export, which changes the outputs a little"
        )
    if rank(info) == 4:
        mode = f'interpolation="{p.get("mode", "nearest")}"'
        return [KerasLayer("layers.UpSampling2D", (str(int(scale)), mode, CF))]
    if p.get("mode", "nearest") != "nearest":
        raise NoEquivalent("Keras upsamples sequences with 'nearest' only")
    return [
        KerasLayer("layers.Permute", ("(2, 1)",), "to channels-last", suffix="_to_last"),
        KerasLayer("layers.UpSampling1D", (str(int(scale)),)),
        KerasLayer("layers.Permute", ("(2, 1)",), "back to channels-first", suffix="_to_first"),
    ]


# --- the kinds -------------------------------------------------------------------------------------------------
def _conv_kind(dims: int, help: str, keras: Mapper | None) -> LayerKind:
    return kind(
        f"Conv{dims}d",
        "Convolution",
        help,
        *_params(dims),
        rule=_convolution(dims),
        count=_count(dims),
        from_torch=_from_torch(),
        keras=keras,
        prefix="conv",
    )


KINDS = (
    _conv_kind(1, "1-D convolution over sequences [N, C, L].", _keras(1)),
    _conv_kind(2, "2-D convolution over images [N, C, H, W].", _keras(2)),
    _conv_kind(3, "3-D convolution over volumes or clips [N, C, D, H, W].", None),
    kind(
        "ConvTranspose2d",
        "Convolution",
        "Transposed 2-D convolution: learns to upsample images.",
        *_params(2, transposed=True)[:5],
        size("output_padding", 0, "Extra size added to one side of the output.", 2, min=0),
        *_params(2, transposed=True)[5:],
        rule=_convolution(2, transposed=True),
        count=_count(2),
        from_torch=_from_torch(transposed=True),
        keras=_keras_transpose,
        prefix="deconv",
    ),
    kind(
        "Upsample",
        "Convolution",
        "Enlarges images or sequences by a scale factor (no learned weights).",
        P("scale_factor", "float", 2.0, "How many times larger the output is.", min=0.1, max=64.0, always=True),
        P("mode", "choice", "nearest", "How new values are computed.", choices=("nearest", "bilinear")),
        P(
            "align_corners",
            "bool",
            False,
            "Bilinear only: the corner pixels of input and output line up (as many U-Nets upsample).",
        ),
        rule=_upsample,
        from_torch=lambda m: upsample_params(m.size, m.scale_factor, m.mode, m.align_corners, m.recompute_scale_factor),
        keras=_keras_upsample,
        prefix="upsample",
    ),
    kind(
        "PixelShuffle",
        "Convolution",
        "Upsamples by moving channels into space: [N, C*r*r, H, W] -> [N, C, H*r, W*r] (sub-pixel convolution).",
        P(
            "upscale_factor",
            "int",
            2,
            "How many times larger height and width become (r).",
            min=1,
            max=16,
            positional=True,
        ),
        rule=_pixel_shuffle,
        from_torch=lambda m: {"upscale_factor": m.upscale_factor},
        prefix="shuffle",
    ),
)
