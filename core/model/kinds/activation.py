"""Activations: they keep the shape. Where torch has ``inplace`` the kind offers it, and the generated code only
writes it when it is set (a keyword at torch's default is never emitted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.model.kinds.keras import KerasLayer, NoEquivalent, axis, rank, simple
from core.model.kinds.kind import P, dim, inplace, kind, read_inplace
from core.model.kinds.shapes import RuleContext, Shape, fmt
from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _softmax(ctx: RuleContext) -> Shape:
    x = ctx.x
    d = ctx.params["dim"]
    if not -len(x) <= d < len(x):
        raise ctx.fail(f"{ctx.name}: dim {d} does not exist in {fmt(x)}; use 1 for the class dimension")
    if d in (0, -len(x)):
        raise ctx.fail(f"{ctx.name}: dim 0 is the batch dimension; use 1 for the class dimension")
    return x


def _hardtanh(ctx: RuleContext) -> Shape:
    low, high = ctx.params["min_val"], ctx.params["max_val"]
    if low >= high:
        raise ctx.fail(f"{ctx.name}: min_val ({low}) must be smaller than max_val ({high})")
    return ctx.x


def _prelu(ctx: RuleContext) -> Shape:
    x, n = ctx.x, ctx.params["num_parameters"]
    channels = x[1] if len(x) > 1 else None
    if n != 1 and n != channels:
        fix = f"set num_parameters to 1 or {channels} (the channels, dimension 1)" if channels else "set it to 1"
        raise ctx.fail(f"{ctx.name} learns {n} slopes, one per channel, but receives {fmt(x)}: {fix}")
    return x


def _softplus(ctx: RuleContext) -> Shape:
    if ctx.params["beta"] == 0:
        raise ctx.fail(f"{ctx.name}: beta 0 divides by zero: set beta to 1 (the usual softplus) or another number")
    return ctx.x


def _softplus_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    if p.get("beta", 1.0) != 1.0 or p.get("threshold", 20.0) != 20.0:
        raise NoEquivalent("Keras' softplus has no beta or threshold: set beta to 1 and threshold to 20")
    return [KerasLayer("layers.Activation", ('"softplus"',))]


def _leaky_keras(info: NodeInfo) -> list[KerasLayer]:
    slope = literal(float(info.params.get("negative_slope", 0.01)))
    return [KerasLayer("layers.LeakyReLU", (f"negative_slope={slope}",), "Keras' default slope is 0.3")]


def _elu_keras(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.ELU", (f"alpha={literal(float(info.params.get('alpha', 1.0)))}",))]


def _gelu_keras(info: NodeInfo) -> list[KerasLayer]:
    if info.params.get("approximate", "none") != "none":
        raise NoEquivalent("the tanh approximation needs a custom activation in Keras; use approximate='none'")
    return [KerasLayer("layers.Activation", ('"gelu"',), "Keras' gelu is exact, as approximate='none'")]


def _softmax_keras(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Softmax", (f"axis={axis(info)}",))]


def _log_softmax_keras(info: NodeInfo) -> list[KerasLayer]:
    if axis(info) != rank(info) - 1:
        raise NoEquivalent("Keras' log_softmax activation works on the last dimension only; set dim to -1")
    return [KerasLayer("layers.Activation", ('"log_softmax"',))]


_A = "Activation"

KINDS = (
    kind(
        "ReLU",
        _A,
        "max(0, x): the usual default activation.",
        inplace(),
        from_torch=read_inplace,
        keras=simple("layers.ReLU"),
        prefix="relu",
        memory="kept",  # its backward pass reads its output
        memory_in_place="kept",
    ),
    kind(
        "ReLU6",
        _A,
        "min(max(0, x), 6): ReLU capped at 6 (MobileNet).",
        inplace(),
        from_torch=read_inplace,
        prefix="relu",
    ),
    kind(
        "Hardtanh",
        _A,
        "Clips values to [min_val, max_val]: a cheap, piecewise-linear Tanh.",
        P("min_val", "float", -1.0, "Lowest output value.", min=-1e6, max=1e6),
        P("max_val", "float", 1.0, "Highest output value.", min=-1e6, max=1e6),
        inplace(),
        rule=_hardtanh,
        from_torch=lambda m: {"min_val": m.min_val, "max_val": m.max_val, "inplace": m.inplace},
        prefix="hardtanh",
    ),
    kind(
        "Hardswish",
        _A,
        "A cheap, piecewise version of SiLU/Swish (MobileNetV3).",
        inplace(),
        from_torch=read_inplace,
        prefix="hswish",
    ),
    kind(
        "Hardsigmoid",
        _A,
        "A cheap, piecewise-linear Sigmoid (MobileNetV3).",
        inplace(),
        from_torch=read_inplace,
        prefix="hsigmoid",
    ),
    kind(
        "Mish",
        _A,
        "x * tanh(softplus(x)): a smooth ReLU variant (YOLOv4).",
        inplace(),
        from_torch=read_inplace,
        prefix="mish",
    ),
    kind(
        "PReLU",
        _A,
        "Leaky ReLU whose negative slope is learned (one slope, or one per channel).",
        P("num_parameters", "int", 1, "How many slopes: 1, or the number of channels (dimension 1).", min=1),
        P("init", "float", 0.25, "Starting value of the slopes.", min=-1e6, max=1e6),
        rule=_prelu,
        count=lambda p: int(p["num_parameters"]),
        from_torch=lambda m: {"num_parameters": m.num_parameters},
        prefix="prelu",
    ),
    kind(
        "SELU",
        _A,
        "Scaled ELU: keeps activations normalised in deep plain networks.",
        inplace(),
        from_torch=read_inplace,
        prefix="selu",
        memory_in_place="kept",  # torch's in-place variant reads its result in the backward pass
    ),
    kind(
        "LeakyReLU",
        _A,
        "Like ReLU but lets a small slope through for negative inputs.",
        P("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0, positional=True),
        inplace(),
        from_torch=lambda m: {"negative_slope": m.negative_slope, "inplace": m.inplace},
        keras=_leaky_keras,
        prefix="lrelu",
        memory_in_place="kept",  # torch's in-place variant reads its result in the backward pass
    ),
    kind(
        "ELU",
        _A,
        "Smooth ReLU variant with negative saturation.",
        P("alpha", "float", 1.0, "Value the output approaches for very negative inputs.", min=0.0),
        inplace(),
        from_torch=lambda m: {"alpha": m.alpha, "inplace": m.inplace},
        keras=_elu_keras,
        prefix="elu",
        memory_in_place="kept",  # torch's in-place variant reads its result in the backward pass
    ),
    kind(
        "GELU",
        _A,
        "Gaussian error linear unit, common in transformers.",
        P("approximate", "choice", "none", "Use the faster tanh approximation.", choices=("none", "tanh")),
        from_torch=lambda m: {"approximate": m.approximate},
        keras=_gelu_keras,
        prefix="gelu",
    ),
    kind(
        "SiLU",
        _A,
        "x * sigmoid(x), also called Swish.",
        inplace(),
        from_torch=read_inplace,
        keras=simple("layers.Activation", '"silu"'),
        prefix="silu",
    ),
    kind(
        "Softplus",
        _A,
        "A smooth version of ReLU: log(1 + exp(beta * x)) / beta.",
        P("beta", "float", 1.0, "Sharpness: larger values bend closer to ReLU (not 0).", min=-1e6, max=1e6),
        P("threshold", "float", 20.0, "Above beta * x = threshold the output is x itself.", min=-1e6, max=1e6),
        rule=_softplus,
        from_torch=lambda m: {"beta": float(m.beta), "threshold": float(m.threshold)},
        keras=_softplus_keras,
        prefix="softplus",
    ),
    kind(
        "Sigmoid",
        _A,
        "Squashes values into (0, 1).",
        from_torch=lambda m: {},
        keras=simple("layers.Activation", '"sigmoid"'),
        prefix="sigmoid",
        memory="kept",  # its backward pass reads its output
    ),
    kind(
        "Tanh",
        _A,
        "Squashes values into (-1, 1).",
        from_torch=lambda m: {},
        keras=simple("layers.Activation", '"tanh"'),
        prefix="tanh",
        memory="kept",  # its backward pass reads its output
    ),
    kind(
        "Softmax",
        _A,
        "Turns scores into probabilities that sum to 1 along dim.",
        dim(1, "Dimension that sums to 1 (1: the class dimension)."),
        rule=_softmax,
        from_torch=lambda m: {"dim": m.dim},
        keras=_softmax_keras,
        keeps_shape=True,
        prefix="softmax",
        memory="kept",  # its backward pass reads its output
    ),
    kind(
        "LogSoftmax",
        _A,
        "Log of Softmax; pair it with the NLL loss.",
        dim(1, "Dimension that is normalised (1: the class dimension)."),
        rule=_softmax,
        from_torch=lambda m: {"dim": m.dim},
        keras=_log_softmax_keras,
        keeps_shape=True,
        prefix="log_softmax",
        memory="kept",  # its backward pass reads its output
    ),
)
