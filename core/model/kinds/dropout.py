"""Dropout: zeroes features (or whole channels, or a whole residual branch) at random during training."""

from __future__ import annotations

from typing import Any

from core.model.kinds.keras import CF, KerasLayer, Mapper
from core.model.kinds.kind import LayerKind, P, Rule, inplace, kind
from core.model.kinds.shapes import RuleContext, Shape
from core.model.literal import literal


def _dropout2d(ctx: RuleContext) -> Shape:
    return ctx.need_rank((4,), "images [N, C, H, W]", "use Dropout for features and sequences")


def _dropout1d(ctx: RuleContext) -> Shape:
    return ctx.need_rank((3,), "sequences [N, C, L]", "use Dropout for features, Dropout2d for images")


STOCHASTIC_DEPTH = '''
class StochasticDepth(nn.Module):
    """Drops a residual branch at random while training, for each sample ("row") or for
    the whole batch ("batch"), as torchvision.ops.StochasticDepth; unchanged in eval."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
        if keep > 0.0:
            noise.div_(keep)
        return x * noise
'''


def _from_torch(m: Any) -> dict[str, Any]:
    return {"p": m.p, "inplace": m.inplace}


def _dropout(
    id: str, help: str, what: str, rule: Rule | None, keras: Mapper | None, keeps_shape: bool = False
) -> LayerKind:
    return kind(
        id,
        "Dropout",
        help,
        P("p", "float", 0.5, f"Probability that a {what} is zeroed.", min=0.0, max=1.0, positional=True),
        inplace(),
        rule=rule,
        from_torch=_from_torch,
        keras=keras,
        keeps_shape=keeps_shape,
        prefix="dropout",
        memory="input",  # evaluating, it hands its input on as it is
    )


KINDS = (
    _dropout(
        "Dropout",
        "Randomly zeroes features during training to reduce overfitting.",
        "feature",
        None,
        lambda info: [KerasLayer("layers.Dropout", (literal(float(info.params.get("p", 0.5))),))],
    ),
    _dropout(
        "Dropout1d",
        "Randomly zeroes whole channels of sequences [N, C, L] during training.",
        "channel",
        _dropout1d,
        None,
    ),
    _dropout(
        "Dropout2d",
        "Randomly zeroes whole image channels during training.",
        "channel",
        _dropout2d,
        lambda info: [KerasLayer("layers.SpatialDropout2D", (literal(float(info.params.get("p", 0.5))), CF))],
        keeps_shape=True,
    ),
    kind(
        "StochasticDepth",
        "Dropout",
        "Drops a residual branch at random during training (drop-path: EfficientNet, ConvNeXt); unchanged in eval.",
        P("p", "float", 0.2, "Probability that the branch is dropped.", min=0.0, max=1.0, positional=True),
        P(
            "mode",
            "choice",
            "row",
            "row: drop the branch for each sample on its own; batch: for the whole batch at once.",
            choices=("row", "batch"),
            always=True,
        ),
        from_torch=lambda m: {"p": float(m.p), "mode": str(m.mode)},
        imports=("torchvision.ops.stochastic_depth.StochasticDepth",),
        torch_class="StochasticDepth",
        display="Stochastic depth",
        prefix="stochastic_depth",
        memory="input",  # evaluating, it hands its input on as it is
        doc="https://pytorch.org/vision/stable/generated/torchvision.ops.StochasticDepth.html",
        helper=STOCHASTIC_DEPTH,
    ),
)
