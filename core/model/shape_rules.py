"""How each layer kind transforms tensor shapes, and how many parameters it holds.

A rule reads the incoming shapes (batch dimension ``None``, shown as N), fills the layer's auto parameters
(``in_features``, ``in_channels`` ...) unless the user pinned them, and returns the output shape, or raises
``ShapeError`` with a message that names the node and the fix. Layers without a rule pass their input through.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import ShapeError

Shape = tuple[int | None, ...]


def fmt(shape: Shape | None) -> str:
    if shape is None:
        return "[?]"
    return "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"


def numel(shape: Shape) -> int:
    return math.prod(int(d) for d in shape if d is not None)


@dataclass
class RuleContext:
    """What a rule sees of one node."""

    node_id: str
    name: str
    layer: str
    params: dict[str, Any]  # defaults + user values; auto values are added by ``auto``
    pinned: set[str]
    ins: list[Shape]
    in_dtypes: list[str]
    sources: list[str]  # names of the nodes feeding each input
    dtype: str = "float32"  # dtype of the output
    auto_values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # legal but probably not meant: shown, never blocking

    @property
    def x(self) -> Shape:
        return self.ins[0]

    def fail(self, message: str) -> ShapeError:
        return ShapeError(message, self.node_id)

    def auto(self, key: str, inferred: Any) -> Any:
        """The pinned value if the user set one, else the inferred one (recorded as auto-filled)."""
        if key in self.pinned and self.params.get(key) is not None:
            return self.params[key]
        self.params[key] = inferred
        self.auto_values[key] = inferred
        return inferred

    def need_rank(self, ranks: tuple[int, ...], what: str, fix: str) -> Shape:
        x = self.x
        if len(x) not in ranks:
            raise self.fail(f"{self.name} expects {what} but receives {fmt(x)}: {fix}")
        return x


RULES: dict[str, Callable[[RuleContext], Shape]] = {}
PARAM_COUNTS: dict[str, Callable[[dict[str, Any]], int]] = {}
# Layers whose inputs need not be float tensors (they move data around or combine it).


def rule(*layer_ids: str) -> Callable[[Callable[[RuleContext], Shape]], Callable[[RuleContext], Shape]]:
    def register(fn: Callable[[RuleContext], Shape]) -> Callable[[RuleContext], Shape]:
        for layer_id in layer_ids:
            RULES[layer_id] = fn
        return fn

    return register


def count(*layer_ids: str) -> Callable[[Callable[[dict[str, Any]], int]], Callable[[dict[str, Any]], int]]:
    def register(fn: Callable[[dict[str, Any]], int]) -> Callable[[dict[str, Any]], int]:
        for layer_id in layer_ids:
            PARAM_COUNTS[layer_id] = fn
        return fn

    return register


def _tuple(value: Any, dims: int) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * dims


def _spatial_name(dims: int) -> str:
    return {1: "sequences [N, C, L]", 2: "images [N, C, H, W]"}.get(dims, "volumes [N, C, D, H, W]")


def _rank_fix(ctx: RuleContext, dims: int) -> str:
    x = ctx.x
    if dims == 2 and len(x) == 2:
        side = math.isqrt(x[1] or 0)
        if side * side == x[1]:
            return f"add an Unflatten with unflattened_size [1, {side}, {side}] before it"
        return "add an Unflatten or Reshape before it that gives [N, C, H, W]"
    if dims == 2 and len(x) == 3:
        return f"set the Input shape to [1, {x[1]}, {x[2]}] (one channel), or add an Unflatten before it"
    if dims == 1 and len(x) == 2:
        return f"add an Unflatten with unflattened_size [1, {x[1]}] before it"
    return "use a layer made for this many dimensions, or reshape the tensor before it"


# --- Input / Output ------------------------------------------------------------------------------------------
@rule("Input")
def _input(ctx: RuleContext) -> Shape:
    ctx.dtype = ctx.params.get("dtype", "float32")
    return (None, *(int(d) for d in ctx.params["shape"]))


# --- Linear / Embedding ----------------------------------------------------------------------------------------
@rule("Linear")
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
            f"{ctx.name} receives {fmt(x)} and acts on its last axis only ({features} features, the other "
            f"dimensions are kept): add a Flatten before it to use all {numel(x[1:])} values per sample"
        )
    return (*x[:-1], ctx.params["out_features"])


@count("Linear")
def _linear_count(p: dict[str, Any]) -> int:
    return int(p["in_features"] * p["out_features"] + (p["out_features"] if p["bias"] else 0))


@rule("Embedding")
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


@count("Embedding")
def _embedding_count(p: dict[str, Any]) -> int:
    return int(p["num_embeddings"] * p["embedding_dim"])


# --- Activation ------------------------------------------------------------------------------------------------
@rule("Softmax", "LogSoftmax")
def _softmax(ctx: RuleContext) -> Shape:
    x = ctx.x
    dim = ctx.params["dim"]
    if not -len(x) <= dim < len(x):
        raise ctx.fail(f"{ctx.name}: dim {dim} does not exist in {fmt(x)}; use 1 for the class dimension")
    if dim in (0, -len(x)):
        raise ctx.fail(f"{ctx.name}: dim 0 is the batch dimension; use 1 for the class dimension")
    return x


@rule("Hardtanh")
def _hardtanh(ctx: RuleContext) -> Shape:
    low, high = ctx.params["min_val"], ctx.params["max_val"]
    if low >= high:
        raise ctx.fail(f"{ctx.name}: min_val ({low}) must be smaller than max_val ({high})")
    return ctx.x


@rule("PReLU")
def _prelu(ctx: RuleContext) -> Shape:
    x, n = ctx.x, ctx.params["num_parameters"]
    channels = x[1] if len(x) > 1 else None
    if n != 1 and n != channels:
        fix = f"set num_parameters to 1 or {channels} (the channels, dimension 1)" if channels else "set it to 1"
        raise ctx.fail(f"{ctx.name} learns {n} slopes, one per channel, but receives {fmt(x)}: {fix}")
    return x


@count("PReLU")
def _prelu_count(p: dict[str, Any]) -> int:
    return int(p["num_parameters"])


# --- Shape -----------------------------------------------------------------------------------------------------
def _norm_dim(ctx: RuleContext, dim: int, rank: int, what: str) -> int:
    d = dim + rank if dim < 0 else dim
    if not 1 <= d < rank:
        raise ctx.fail(f"{ctx.name}: {what} {dim} does not exist in {fmt(ctx.x)} (dimension 0 is the batch)")
    return d


@rule("Flatten")
def _flatten(ctx: RuleContext) -> Shape:
    x = ctx.x
    if len(x) < 2:
        return x
    start = _norm_dim(ctx, ctx.params["start_dim"], len(x), "start_dim")
    end = _norm_dim(ctx, ctx.params["end_dim"], len(x), "end_dim")
    if start > end:
        raise ctx.fail(f"{ctx.name}: start_dim ({start}) comes after end_dim ({end})")
    return (*x[:start], numel(x[start : end + 1]), *x[end + 1 :])


@rule("Unflatten")
def _unflatten(ctx: RuleContext) -> Shape:
    x = ctx.x
    d = _norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    sizes = list(ctx.params["unflattened_size"])
    if math.prod(sizes) != x[d]:
        raise ctx.fail(
            f"{ctx.name} splits {x[d]} values into {sizes} = {math.prod(sizes)}: the sizes must multiply to {x[d]}"
        )
    return (*x[:d], *sizes, *x[d + 1 :])


@rule("Reshape")
def _reshape(ctx: RuleContext) -> Shape:
    x = ctx.x
    total = numel(x[1:])
    sizes = list(ctx.params["shape"])
    if sizes.count(-1) > 1:
        raise ctx.fail(f"{ctx.name}: only one size may be -1 in {sizes}")
    if any(s == 0 or s < -1 for s in sizes):
        raise ctx.fail(f"{ctx.name}: sizes must be positive (or one -1), not {sizes}")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if total % known:
            raise ctx.fail(
                f"{ctx.name} cannot reshape {fmt(x)} ({total} values per sample) to {sizes}: "
                f"{total} is not divisible by {known}"
            )
        sizes[sizes.index(-1)] = total // known
    elif known != total:
        raise ctx.fail(
            f"{ctx.name} cannot reshape {fmt(x)} ({total} values per sample) to {sizes} "
            f"({known} values): the sizes must multiply to {total}"
        )
    return (x[0], *sizes)


@rule("Permute")
def _permute(ctx: RuleContext) -> Shape:
    x = ctx.x
    dims = list(ctx.params["dims"])
    if sorted(dims) != list(range(1, len(x))):
        want = list(range(1, len(x)))
        raise ctx.fail(f"{ctx.name}: dims {dims} must list each of {want} once for {fmt(x)}")
    return (x[0], *(x[d] for d in dims))


@rule("Mean")
def _mean(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(3, 9)), "[N, T, D] or more dimensions", "it averages one dimension away")
    d = _norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    return (*x[:d], *x[d + 1 :])


@rule("TakeToken")
def _take_token(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(3, 9)), "sequences [N, T, D]", "it keeps one step of dimension 1")
    steps, index = int(x[1]), ctx.params["index"]  # type: ignore[arg-type]
    if not -steps <= index < steps:
        raise ctx.fail(
            f"{ctx.name}: index {index} is outside the {steps} steps of {fmt(x)}: use 0 to {steps - 1}, "
            "or -1 for the last"
        )
    return (x[0], *x[2:])


# --- Recurrent -------------------------------------------------------------------------------------------------
@rule("LSTM", "GRU", "RNN")
def _recurrent(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(
        (3,), "sequences [N, T, features]", "set the Input shape to [steps, features], or add a Reshape before it"
    )
    expected = ctx.auto("input_size", x[-1])
    if expected != x[-1]:
        raise ctx.fail(
            f"{ctx.name} expects {expected} features per step but receives {fmt(x)}: "
            f"set input_size to {x[-1]}, or unpin it"
        )
    p = ctx.params
    if p["dropout"] and p["num_layers"] < 2:
        raise ctx.fail(
            f"{ctx.name}: dropout only acts between stacked layers: set num_layers to 2 or more, or set dropout to 0"
        )
    hidden = p["hidden_size"] * (2 if p["bidirectional"] else 1)
    if p["return_sequences"] == "last":
        return (x[0], hidden)
    return (x[0], x[1], hidden)


_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def recurrent_count(layer: str, p: dict[str, Any]) -> int:
    gates, hidden = _GATES[layer], p["hidden_size"]
    directions = 2 if p["bidirectional"] else 1
    total = 0
    for i in range(p["num_layers"]):
        size_in = p["input_size"] if i == 0 else hidden * directions
        per_direction = gates * hidden * (size_in + hidden) + (2 * gates * hidden if p["bias"] else 0)
        total += per_direction * directions
    return total


PARAM_COUNTS["LSTM"] = lambda p: recurrent_count("LSTM", p)
PARAM_COUNTS["GRU"] = lambda p: recurrent_count("GRU", p)
PARAM_COUNTS["RNN"] = lambda p: recurrent_count("RNN", p)


# --- Merge -----------------------------------------------------------------------------------------------------
def _listing(ctx: RuleContext) -> str:
    return " and ".join(f"{fmt(s)} (from {src})" for s, src in zip(ctx.ins, ctx.sources, strict=False))


@rule("Add", "Multiply")
def _elementwise(ctx: RuleContext) -> Shape:
    if len(set(ctx.ins)) > 1:
        verb = "adds" if ctx.layer == "Add" else "multiplies"
        raise ctx.fail(
            f"{ctx.name} {verb} tensors of different shapes {_listing(ctx)}: "
            "they must be the same shape; change the layers before it so they match"
        )
    if len(set(ctx.in_dtypes)) > 1:
        raise ctx.fail(f"{ctx.name} combines token ids with decimal numbers: use an Embedding first")
    ctx.dtype = ctx.in_dtypes[0]
    return ctx.x


@rule("Concat")
def _concat(ctx: RuleContext) -> Shape:
    ranks = {len(s) for s in ctx.ins}
    if len(ranks) > 1:
        raise ctx.fail(
            f"{ctx.name} joins tensors with different numbers of dimensions {_listing(ctx)}: reshape them to match"
        )
    rank = ranks.pop()
    d = _norm_dim(ctx, ctx.params["dim"], rank, "dim")
    for i in range(rank):
        if i != d and len({s[i] for s in ctx.ins}) > 1:
            raise ctx.fail(
                f"{ctx.name} joins along dimension {d}, but the tensors differ in dimension {i}: "
                f"{_listing(ctx)}; all other dimensions must match"
            )
    ctx.dtype = ctx.in_dtypes[0]
    joined = sum(int(s[d] or 0) for s in ctx.ins)
    return (*ctx.x[:d], joined, *ctx.x[d + 1 :])


# Convolution, pooling and normalization rules register themselves on import (their own module by concept).
from core.model import shape_rules_attention as _attention_rules  # noqa: E402,F401
from core.model import shape_rules_conv as _conv_rules  # noqa: E402,F401
