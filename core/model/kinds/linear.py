"""Fully connected layers: Linear, and Embedding (a learned vector per token id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.model.kinds.keras import KerasLayer, bias
from core.model.kinds.kind import P, auto, kind
from core.model.kinds.shapes import RuleContext, Shape, fmt, numel
from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


LAST_AXIS_ONLY = "acts on its last axis only"  # the per-step check (core.model.per_step) finds the advice by it


def _linear(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "[N, features]", "connect a layer that produces features")
    features = x[-1]
    expected = ctx.auto("in_features", features)
    if expected != features:
        flat = numel(x[1:])
        if len(x) > 2 and expected == flat:
            fix = "add a Flatten before it"
        elif len(x) > 2:
            fix = f"add a Flatten before it and set in_features to {flat} (or unpin it so it follows the input)"
        else:
            fix = f"set in_features to {features}, or unpin it so it follows the input"
        raise ctx.fail(f"{ctx.name} expects {expected} features but receives {fmt(x)}: {fix}")
    if len(x) > 2:  # legal (Transformers do it on [N, T, D]) but for images it is the missing-Flatten slip
        ctx.warnings.append(
            f"{ctx.name} receives {fmt(x)} and {LAST_AXIS_ONLY} ({features} features, the other "
            f"dimensions are kept): add a Flatten before it to use all {numel(x[1:])} values per sample"
        )
    return (*x[:-1], ctx.params["out_features"])


def _linear_count(p: dict[str, Any]) -> int:
    return int(p["in_features"] * p["out_features"] + (p["out_features"] if p["bias"] else 0))


def _linear_keras(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    return [KerasLayer("layers.Dense", (literal(p["out_features"]), *bias(p)))]


def _embedding(ctx: RuleContext) -> Shape:
    if ctx.in_dtypes[0] != "int64":
        raise ctx.fail(
            f"{ctx.name} looks up whole-number token ids but receives decimal numbers {fmt(ctx.x)} "
            f"from {ctx.sources[0]}: set the Input's dtype to int64, or remove the Embedding"
        )
    pad = ctx.params.get("padding_idx")
    if pad is not None and pad >= ctx.params["num_embeddings"]:
        raise ctx.fail(
            f"{ctx.name}: padding_idx {pad} must be smaller than num_embeddings ({ctx.params['num_embeddings']})"
        )
    return (*ctx.x, ctx.params["embedding_dim"])


def _embedding_from_torch(m: Any) -> dict[str, Any]:
    return {
        "num_embeddings": m.num_embeddings,
        "embedding_dim": m.embedding_dim,
        **({"padding_idx": m.padding_idx} if m.padding_idx is not None else {}),
    }


def _embedding_keras(info: NodeInfo) -> list[KerasLayer]:
    """padding_idx, which Keras lacks, is a row that starts at zero and gets no gradient: here it starts at zero
    (``UniformPaddingZero``) and is set back to zero after every update (``KeepPaddingZero``, classes the code
    defines: ``core.code.keras_layers.HELPERS``). Adam's or momentum's state for that row moves only that row,
    so the rest trains as in PyTorch; a global gradient norm is what still sees its Keras gradient."""
    p = info.params
    sizes = (literal(p["num_embeddings"]), literal(p["embedding_dim"]))
    pad = p.get("padding_idx")
    if pad is None:
        return [KerasLayer("layers.Embedding", sizes)]
    keep = (f"embeddings_initializer=UniformPaddingZero({pad})", f"embeddings_constraint=KeepPaddingZero({pad})")
    note = f"unlike PyTorch, row {pad} has a gradient: a global_clipnorm counts it"
    return [KerasLayer("layers.Embedding", (*sizes, *keep), note)]


LINEAR = kind(
    "Linear",
    "Linear",
    "Fully connected layer: every output is a weighted sum of all inputs.",
    auto("in_features", "Features of the incoming tensor (filled from the input shape)."),
    P("out_features", "int", 64, "Number of output features (neurons).", min=1, positional=True),
    P("bias", "bool", True, "Learn an additive bias."),
    rule=_linear,
    count=_linear_count,
    from_torch=lambda m: {"out_features": m.out_features, "bias": m.bias is not None},
    keras=_linear_keras,
    prefix="fc",
)
EMBEDDING = kind(
    "Embedding",
    "Linear",
    "Looks up a learned vector for each integer token id.",
    P(
        "num_embeddings",
        "int",
        1000,
        "Vocabulary size: token ids run from 0 to this minus one.",
        min=1,
        positional=True,
    ),
    P("embedding_dim", "int", 64, "Length of each token's vector.", min=1, positional=True),
    P("padding_idx", "int", None, "Token id whose vector stays zero (empty: none).", min=0, optional=True),
    rule=_embedding,
    count=lambda p: int(p["num_embeddings"] * p["embedding_dim"]),
    from_torch=_embedding_from_torch,
    keras=_embedding_keras,
    prefix="embedding",
    accepts_tokens=True,
)

KINDS = (LINEAR, EMBEDDING)
