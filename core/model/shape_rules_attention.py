"""Shape rules and parameter counts of the attention layers: self-attention, Transformer encoder layers (one, or
a stack) and the learned positional embedding. They register into ``core.model.shape_rules`` when it loads."""

from __future__ import annotations

from typing import Any

from core.model.shape_rules import RuleContext, Shape, count, fmt, rule

_SEQUENCE_FIX = "add an Embedding before it (token ids), or set the Input shape to [steps, features]"


def _tokens(ctx: RuleContext, key: str, heads: str | None) -> Shape:
    """The [N, T, D] input, with D filled into ``key`` and checked against the number of heads."""
    x = ctx.need_rank((3,), "sequences [N, T, D]", _SEQUENCE_FIX)
    d = int(x[2])  # type: ignore[arg-type]
    expected = ctx.auto(key, d)
    if expected != d:
        raise ctx.fail(
            f"{ctx.name} expects {expected} features per token but receives {fmt(x)}: set {key} to {d}, "
            "or unpin it so it follows the input"
        )
    if heads is not None and d % ctx.params[heads]:
        options = ", ".join(str(h) for h in range(1, min(d, 16) + 1) if d % h == 0)
        raise ctx.fail(
            f"{ctx.name} splits {d} features into {ctx.params[heads]} heads, but {d} is not divisible by "
            f"{ctx.params[heads]}: set {heads} to one of {options}, or change the features before it"
        )
    return x


@rule("MultiheadAttention")
def _attention(ctx: RuleContext) -> Shape:
    return _tokens(ctx, "embed_dim", "num_heads")


def attention_count(d: int, bias: bool) -> int:
    """Query, key, value and output projections: 4 d x d weights (+ 4 d biases)."""
    return 4 * d * d + (4 * d if bias else 0)


@count("MultiheadAttention")
def _attention_count(p: dict[str, Any]) -> int:
    return attention_count(p["embed_dim"], p["bias"])


@rule("TransformerEncoderLayer", "TransformerEncoder")
def _encoder(ctx: RuleContext) -> Shape:
    return _tokens(ctx, "d_model", "nhead")


def encoder_layer_count(p: dict[str, Any]) -> int:
    """Attention, two linear layers and two layer norms (torch's bias=False drops all their biases)."""
    d, ff, bias = p["d_model"], p["dim_feedforward"], p["bias"]
    linear = 2 * d * ff + ((ff + d) if bias else 0)
    norms = 2 * (2 * d if bias else d)
    return attention_count(d, bias) + linear + norms


@count("TransformerEncoderLayer")
def _encoder_layer_count(p: dict[str, Any]) -> int:
    return encoder_layer_count(p)


@count("TransformerEncoder")
def _encoder_count(p: dict[str, Any]) -> int:
    return int(p["num_layers"]) * encoder_layer_count(p)


@rule("PositionalEmbedding")
def _positional(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((3,), "sequences [N, T, D]", _SEQUENCE_FIX)
    for key, size, what in (("seq_len", x[1], "steps"), ("dim", x[2], "features per token")):
        expected = ctx.auto(key, size)
        if expected != size:
            raise ctx.fail(
                f"{ctx.name} holds a vector for {expected} {what} but receives {fmt(x)}: set {key} to {size}, "
                "or unpin it so it follows the input"
            )
    return x


@count("PositionalEmbedding")
def _positional_count(p: dict[str, Any]) -> int:
    return int(p["seq_len"] * p["dim"])
