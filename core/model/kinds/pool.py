"""Pooling: max and average windows over sequences, images and volumes, and the adaptive (global) pools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.model.kinds.keras import CF, KerasLayer, Mapper, NoEquivalent, pair, uniform
from core.model.kinds.kind import FromTorch, LayerKind, NotImportable, P, Rule, kind, size, torch_size
from core.model.kinds.shapes import RuleContext, Shape, as_tuple, fmt, rank_fix, spatial_name
from core.model.kinds.spec import ParamSpec

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _params(dims: int) -> tuple[ParamSpec, ...]:
    return (
        size("kernel_size", 2, "Size of the pooling window.", dims, min=1, positional=True),
        size("stride", None, "Step between windows (empty: same as the kernel size).", dims, min=1, optional=True),
        size("padding", 0, "Padding added on each side.", dims, min=0),
        P("ceil_mode", "bool", False, "Round the output size up: a last, partial window still counts."),
    )


def _pool_rule(dims: int) -> Rule:
    def rule(ctx: RuleContext) -> Shape:
        x = ctx.need_rank((dims + 2,), spatial_name(dims), rank_fix(ctx, dims))
        p = ctx.params
        k = as_tuple(p["kernel_size"], dims)
        s = as_tuple(p["stride"], dims) if p.get("stride") is not None else k
        pad = as_tuple(p["padding"], dims)
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

    return rule


def _adaptive_rule(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", rank_fix(ctx, 2))
    return (*x[:2], *as_tuple(ctx.params["output_size"], 2))


def _from_torch(op: str) -> FromTorch:
    def read(m: Any) -> dict[str, Any]:
        params = {
            "kernel_size": torch_size(m.kernel_size),
            "stride": torch_size(m.stride),
            "padding": torch_size(m.padding),
        }
        if op == "Max" and torch_size(m.dilation) != 1:
            raise NotImportable("a max pooling with dilation is not a TorchCanvas layer")
        if op == "Avg" and (not m.count_include_pad or m.divisor_override):
            raise NotImportable(
                "an average pooling with count_include_pad=False or a divisor_override is not supported"
            )
        params["ceil_mode"] = bool(m.ceil_mode)
        return params

    return read


def _adaptive_from_torch(m: Any) -> dict[str, Any]:
    if m.output_size is None or (isinstance(m.output_size, (tuple, list)) and None in m.output_size):
        raise NotImportable("an adaptive pooling that keeps a dimension (None) is not supported")
    return {"output_size": torch_size(m.output_size)}


def _keras(op: str, dims: int) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        p = info.params
        if uniform(p.get("padding", 0)) != 0:
            raise NoEquivalent("padding > 0 in pooling has no Keras equivalent; pad with a layer before it")
        args = [pair(p["kernel_size"])]
        if p.get("stride") is not None:
            args.append(f"strides={pair(p['stride'])}")
        return [KerasLayer(f"layers.{op}Pooling{dims}D", (*args, CF))]

    return mapper


def _adaptive_keras(op: str) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        if uniform(info.params.get("output_size", 1)) != 1:
            raise NoEquivalent("only output_size 1 (global pooling) has a Keras equivalent here")
        return [KerasLayer(f"layers.Global{op}Pooling2D", (CF, "keepdims=True"), "keeps [N, C, 1, 1] as PyTorch")]

    return mapper


def _pool(op: str, dims: int, help: str, keras: bool = True) -> LayerKind:
    return kind(
        f"{op}Pool{dims}d",
        "Pooling",
        help,
        *_params(dims),
        rule=_pool_rule(dims),
        from_torch=_from_torch(op),
        keras=_keras("Max" if op == "Max" else "Average", dims) if keras else None,
        prefix="pool",
    )


def _adaptive(op: str, help: str, prefix: str) -> LayerKind:
    return kind(
        f"Adaptive{op}Pool2d",
        "Pooling",
        help,
        size("output_size", 1, "Height and width of the output.", 2, min=1, positional=True),
        rule=_adaptive_rule,
        from_torch=_adaptive_from_torch,
        keras=_adaptive_keras("Average" if op == "Avg" else "Max"),
        prefix=prefix,
    )


KINDS = (
    _pool("Max", 1, "Keeps the largest value in each window of a sequence."),
    _pool("Max", 2, "Keeps the largest value in each window of an image."),
    _pool("Max", 3, "Keeps the largest value in each window of a volume.", keras=False),
    _pool("Avg", 1, "Averages each window of a sequence."),
    _pool("Avg", 2, "Averages each window of an image."),
    _adaptive("Avg", "Averages an image down to a fixed output size, whatever the input size.", "gap"),
    _adaptive("Max", "Max-pools an image down to a fixed output size, whatever the input size.", "gmp"),
)
