"""Dropout: zeroes features (or whole channels) at random during training."""

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
)
