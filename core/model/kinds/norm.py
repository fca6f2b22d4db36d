"""Normalization: batch and instance norms over channels, LayerNorm over the last dimension, GroupNorm."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.model.kinds.keras import KerasLayer, NoEquivalent, affine
from core.model.kinds.kind import LayerKind, NotImportable, P, auto, kind
from core.model.kinds.shapes import RuleContext, Shape, channels, fmt, numel
from core.model.kinds.spec import ParamSpec
from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _params(features: str, affine: bool = True) -> tuple[ParamSpec, ...]:
    return (
        auto(features, "Features or channels to normalise (filled from the input shape)."),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P(
            "momentum",
            "float",
            0.1,
            "How fast running statistics follow each batch (empty: a cumulative average of all batches).",
            min=0.0,
            max=1.0,
            optional=True,
        ),
        P("affine", "bool", affine, "Learn a scale and shift after normalising."),
        P(
            "track_running_stats",
            "bool",
            affine,
            "Keep running mean and variance for evaluation (off: use each batch's statistics, also in eval).",
        ),
    )


_RANKS = {
    "BatchNorm2d": ((4,), "images [N, C, H, W]", "use BatchNorm1d for features, or reshape first"),
    "BatchNorm3d": ((5,), "volumes [N, C, D, H, W]", "use BatchNorm2d for images, or reshape first"),
    "InstanceNorm1d": ((3,), "sequences [N, C, L]", "use InstanceNorm2d for images, or LayerNorm for features"),
    "InstanceNorm2d": ((4,), "images [N, C, H, W]", "use InstanceNorm1d for sequences, or reshape first"),
}


def _batchnorm(ctx: RuleContext) -> Shape:
    if ctx.layer in _RANKS:
        x = ctx.need_rank(*_RANKS[ctx.layer])
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


def _batchnorm_from_torch(m: Any) -> dict[str, Any]:
    return {"eps": m.eps, "momentum": m.momentum, "affine": m.affine, "track_running_stats": m.track_running_stats}


def _batchnorm_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    if p.get("momentum", 0.1) is None:
        raise NoEquivalent("momentum empty (a cumulative average) has no Keras equivalent; set momentum to e.g. 0.1")
    momentum = 1.0 - float(p.get("momentum", 0.1))
    args = ["axis=1", f"epsilon={literal(float(p.get('eps', 1e-5)))}", f"momentum={literal(round(momentum, 6))}"]
    note = "Keras momentum = 1 - PyTorch momentum; running stats are non-trainable weights"
    return [KerasLayer("layers.BatchNormalization", (*args, *affine(p.get("affine", True))), note)]


def _layernorm(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "[N, features]", "connect a layer that produces features")
    expected = ctx.auto("normalized_shape", x[-1])
    if expected != x[-1]:
        raise ctx.fail(
            f"{ctx.name} normalises over {expected} values but the last dimension of {fmt(x)} is "
            f"{x[-1]}: set normalized_shape to {x[-1]}, or unpin it"
        )
    return x


def _layernorm_from_torch(m: Any) -> dict[str, Any]:
    if len(m.normalized_shape) != 1:
        raise NotImportable("a LayerNorm over more than the last dimension is not supported")
    return {"eps": m.eps, "elementwise_affine": m.elementwise_affine}


def _layernorm_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    args = ["axis=-1", f"epsilon={literal(float(p.get('eps', 1e-5)))}", *affine(p.get("elementwise_affine", True))]
    return [KerasLayer("layers.LayerNormalization", tuple(args))]


LAYER_NORM_2D = '''
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of images [N, C, H, W] (ConvNeXt)."""

    def __init__(
        self, num_channels: int, eps: float = 1e-5, elementwise_affine: bool = True
    ) -> None:
        super().__init__(num_channels, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''


def _layernorm2d(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", "use LayerNorm for features [N, D]")
    channels(ctx, "num_channels")
    return x


def _layernorm2d_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    args = ["axis=1", f"epsilon={literal(float(p.get('eps', 1e-5)))}", *affine(p.get("elementwise_affine", True))]
    return [KerasLayer("layers.LayerNormalization", tuple(args), "over the channels")]


def _groupnorm(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "[N, C, ...]", "connect a layer that produces channels")
    c = channels(ctx, "num_channels")
    groups = ctx.params["num_groups"]
    if c % groups:
        divisors = ", ".join(str(d) for d in range(1, c + 1) if c % d == 0)
        raise ctx.fail(
            f"{ctx.name} splits {c} channels into {groups} groups, but {c} is not divisible by "
            f"{groups}: set num_groups to one of {divisors}"
        )
    return x


def _groupnorm_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    args = [f"groups={literal(p['num_groups'])}", "axis=1", f"epsilon={literal(float(p.get('eps', 1e-5)))}"]
    return [KerasLayer("layers.GroupNormalization", (*args, *affine(p.get("affine", True))))]


def _batch_kind(id: str, help: str, affine: bool = True, keeps_shape: bool = False, keras: bool = False) -> LayerKind:
    return kind(
        id,
        "Normalization",
        help,
        *_params("num_features", affine=affine),
        rule=_batchnorm,
        count=lambda p: int(2 * p["num_features"] if p["affine"] else 0),
        from_torch=_batchnorm_from_torch,
        keras=_batchnorm_keras if keras else None,
        keeps_shape=keeps_shape,
        prefix="inorm" if id.startswith("InstanceNorm") else "bn",
    )


KINDS = (
    _batch_kind(
        "BatchNorm1d", "Normalises each feature over the batch ([N, C] or [N, C, L]).", keeps_shape=True, keras=True
    ),
    _batch_kind("BatchNorm2d", "Normalises each image channel over the batch.", keras=True),
    _batch_kind("BatchNorm3d", "Normalises each volume channel over the batch."),
    _batch_kind(
        "InstanceNorm1d",
        "Normalises each channel of each sequence on its own [N, C, L] (no batch statistics).",
        affine=False,
    ),
    _batch_kind(
        "InstanceNorm2d", "Normalises each channel of each image on its own (style transfer, small batches).", False
    ),
    kind(
        "LayerNorm",
        "Normalization",
        "Normalises each sample over its last dimension.",
        P(
            "normalized_shape",
            "int",
            None,
            "Size of the last dimension (filled from the input shape).",
            min=1,
            auto=True,
            positional=True,
        ),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P("elementwise_affine", "bool", True, "Learn a scale and shift after normalising."),
        rule=_layernorm,
        count=lambda p: int(2 * p["normalized_shape"] if p["elementwise_affine"] else 0),
        from_torch=_layernorm_from_torch,
        keras=_layernorm_keras,
        keeps_shape=True,
        prefix="ln",
    ),
    kind(
        "LayerNorm2d",
        "Normalization",
        "Normalises the channels of each pixel of images [N, C, H, W] (ConvNeXt's LayerNorm2d).",
        auto("num_channels", "Channels (filled from the input shape); nn.LayerNorm's normalized_shape."),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P("elementwise_affine", "bool", True, "Learn a scale and shift after normalising."),
        rule=_layernorm2d,
        count=lambda p: int(2 * p["num_channels"] if p["elementwise_affine"] else 0),
        from_torch=_layernorm_from_torch,
        keras=_layernorm2d_keras,
        keeps_shape=True,
        imports=("torchvision.models.convnext.LayerNorm2d",),
        torch_class="LayerNorm2d",
        display="LayerNorm over channels",
        prefix="ln",
        doc="https://pytorch.org/vision/stable/models/convnext.html",
        helper=LAYER_NORM_2D,
    ),
    kind(
        "GroupNorm",
        "Normalization",
        "Normalises groups of channels in each sample; works with small batches.",
        P("num_groups", "int", 8, "How many groups the channels are split into.", min=1, positional=True),
        auto("num_channels", "Channels of the incoming tensor (filled from the input shape)."),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P("affine", "bool", True, "Learn a scale and shift after normalising."),
        rule=_groupnorm,
        count=lambda p: int(2 * p["num_channels"] if p["affine"] else 0),
        from_torch=lambda m: {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine},
        keras=_groupnorm_keras,
        keeps_shape=True,
        prefix="gn",
    ),
)
