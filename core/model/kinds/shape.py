"""Shape layers: they move values around without learning anything (Flatten, Reshape, Permute, padding, one
step of a sequence, a mean over one dimension)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from core.model.kinds.keras import KerasLayer, axis, rank, reshape, simple
from core.model.kinds.kind import P, kind, size, torch_size
from core.model.kinds.shapes import RuleContext, Shape, as_tuple, fmt, norm_dim, numel, rank_fix
from core.model.kinds.spec import DOCS
from core.model.literal import literal

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo


def _flatten(ctx: RuleContext) -> Shape:
    x = ctx.x
    if len(x) < 2:
        return x
    start = norm_dim(ctx, ctx.params["start_dim"], len(x), "start_dim")
    end = norm_dim(ctx, ctx.params["end_dim"], len(x), "end_dim")
    if start > end:
        raise ctx.fail(f"{ctx.name}: start_dim ({start}) comes after end_dim ({end})")
    return (*x[:start], numel(x[start : end + 1]), *x[end + 1 :])


def _flatten_keras(info: NodeInfo) -> list[KerasLayer]:
    if info.out_shape is not None and len(info.out_shape) == 2:
        return [KerasLayer("layers.Flatten", (), "channels-first order, as nn.Flatten")]
    return reshape(info)


def _unflatten(ctx: RuleContext) -> Shape:
    x = ctx.x
    d = norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    sizes = list(ctx.params["unflattened_size"])
    if math.prod(sizes) != x[d]:
        raise ctx.fail(
            f"{ctx.name} splits {x[d]} values into {sizes} = {math.prod(sizes)}: the sizes must multiply to {x[d]}"
        )
    return (*x[:d], *sizes, *x[d + 1 :])


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


def _permute(ctx: RuleContext) -> Shape:
    x = ctx.x
    dims = list(ctx.params["dims"])
    if sorted(dims) != list(range(1, len(x))):
        want = list(range(1, len(x)))
        raise ctx.fail(f"{ctx.name}: dims {dims} must list each of {want} once for {fmt(x)}")
    return (x[0], *(x[d] for d in dims))


def _permute_keras(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Permute", (literal(list(info.params["dims"])),), "dims counted after the batch")]


def _chunk(ctx: RuleContext) -> Shape:
    """torch's chunk: pieces of ceil(size / chunks), the last one shorter (and fewer pieces when they run out)."""
    x = ctx.x
    d = norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    size, chunks, index = int(x[d]), ctx.params["chunks"], ctx.params["index"]  # type: ignore[arg-type]
    step = -(-size // chunks)
    pieces = -(-size // step)
    if index >= pieces:
        raise ctx.fail(
            f"{ctx.name} keeps piece {index} of dimension {d} of {fmt(x)}, but {chunks} chunks of {size} make "
            f"{pieces} pieces: use an index from 0 to {pieces - 1}"
        )
    return (*x[:d], min(step, size - index * step), *x[d + 1 :])


def _channel_shuffle(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", rank_fix(ctx, 2))
    groups, c = ctx.params["groups"], int(x[1])  # type: ignore[arg-type]
    if c % groups:
        raise ctx.fail(f"{ctx.name} shuffles {c} channels in {groups} groups: {c} is not divisible by {groups}")
    return x


def _zero_pad(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((4,), "images [N, C, H, W]", rank_fix(ctx, 2))
    left, right, top, bottom = as_tuple(ctx.params["padding"], 4)
    return (*x[:2], int(x[2]) + top + bottom, int(x[3]) + left + right)  # type: ignore[arg-type]


def _mean(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(3, 9)), "[N, T, D] or more dimensions", "it averages one dimension away")
    d = norm_dim(ctx, ctx.params["dim"], len(x), "dim")
    return (*x[:d], *x[d + 1 :])


def _mean_keras(info: NodeInfo) -> list[KerasLayer]:
    """The time-step mean of [N, T, C] is Keras' own text-classifier pooling, GlobalAveragePooling1D: a sum over
    all T steps divided by T, padding included, as ``x.mean(dim=1)`` (with no mask: our Embedding sets no
    ``mask_zero``, which would leave padding out of the average). Any other dimension is ``keras.ops.mean``."""
    d = axis(info)
    if rank(info) == 3 and d == 1:
        return [KerasLayer("layers.GlobalAveragePooling1D", (), "the mean over all steps, padding included")]
    if rank(info) == 3 and d == 2:
        return [KerasLayer("layers.GlobalAveragePooling1D", ('data_format="channels_first"',), "the mean over dim 2")]
    return [KerasLayer("layers.Lambda", (f"lambda x: keras.ops.mean(x, axis={d})",), f"the mean over dim {d}")]


def _take_token(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(3, 9)), "sequences [N, T, D]", "it keeps one step of dimension 1")
    steps, index = int(x[1]), ctx.params["index"]  # type: ignore[arg-type]
    if not -steps <= index < steps:
        raise ctx.fail(
            f"{ctx.name}: index {index} is outside the {steps} steps of {fmt(x)}: use 0 to {steps - 1}, "
            "or -1 for the last"
        )
    return (x[0], *x[2:])


KINDS = (
    kind(
        "Flatten",
        "Shape",
        "Flattens all dimensions after the batch into one: [N, C, H, W] -> [N, C*H*W].",
        P("start_dim", "int", 1, "First dimension to flatten.", min=1, max=8),
        P("end_dim", "int", -1, "Last dimension to flatten (-1: the last).", min=-8, max=8),
        rule=_flatten,
        from_torch=lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim},
        keras=_flatten_keras,
        prefix="flatten",
        memory="input",
        dtype_neutral=True,
    ),
    kind(
        "Unflatten",
        "Shape",
        "Splits one dimension into several, e.g. [N, 784] -> [N, 1, 28, 28].",
        P("dim", "int", 1, "Dimension to split.", min=1, max=8, positional=True),
        P("unflattened_size", "ints", [1, 28, 28], "Sizes it is split into.", min=1, positional=True),
        rule=_unflatten,
        keras=reshape,
        prefix="unflatten",
        memory="input",
        dtype_neutral=True,
    ),
    kind(
        "Reshape",
        "Shape",
        "Reshapes each sample; one size may be -1 to be worked out.",
        P("shape", "ints", [-1], "New shape of one sample, without the batch dimension.", min=-1),
        rule=_reshape,
        keras=reshape,
        torch_class=None,
        prefix="reshape",
        memory="input",
        forward="{x}.reshape({x}.size(0), {shape})",
        dtype_neutral=True,
        doc=f"{DOCS}torch.reshape.html",
    ),
    kind(
        "Permute",
        "Shape",
        "Reorders the dimensions after the batch, e.g. [N, T, F] -> [N, F, T].",
        P("dims", "ints", [2, 1], "New order of dimensions 1.. (the batch dimension stays first).", min=1),
        rule=_permute,
        keras=_permute_keras,
        torch_class=None,
        prefix="permute",
        memory="input",
        forward="{x}.permute(0, {dims})",
        dtype_neutral=True,
        doc=f"{DOCS}torch.permute.html",
    ),
    kind(
        "Chunk",
        "Shape",
        "Cuts one dimension into equal pieces and keeps one, e.g. half of the channels (x.chunk(2, dim=1)[0]).",
        P("chunks", "int", 2, "How many pieces the dimension is cut into.", min=1, max=4096, positional=True),
        P("index", "int", 0, "Which piece is kept (0: the first).", min=0, max=4095),
        P("dim", "int", 1, "Dimension to cut (1: channels or features).", min=-8, max=8),
        rule=_chunk,
        torch_class=None,
        display="Chunk",
        prefix="chunk",
        memory="piece",
        forward="{x}.chunk({chunks}, dim={dim})[{index}]",
        dtype_neutral=True,
        doc=f"{DOCS}generated/torch.chunk.html",
    ),
    kind(
        "ChannelShuffle",
        "Shape",
        "Interleaves the channels of its groups (ShuffleNet), so grouped convolutions see each other's channels.",
        P("groups", "int", 2, "How many groups the channels are in.", min=1, max=4096, positional=True),
        rule=_channel_shuffle,
        from_torch=lambda m: {"groups": int(m.groups)},
        display="Channel shuffle",
        prefix="channel_shuffle",
        keeps_shape=True,
    ),
    kind(
        "ZeroPad2d",
        "Shape",
        "Adds zeros around images: one number for every side, or left, right, top, bottom.",
        size(
            "padding",
            1,
            "Zeros added: one number for all sides, or [left, right, top, bottom].",
            4,
            min=0,
            positional=True,
        ),
        rule=_zero_pad,
        from_torch=lambda m: {"padding": torch_size(m.padding)},
        prefix="pad",
    ),
    kind(
        "Mean",
        "Shape",
        "Averages over one dimension, e.g. over the time steps of [N, T, D] -> [N, D] (before a Transformer's head).",
        P("dim", "int", 1, "Dimension to average over (1: the time steps or tokens).", min=-8, max=8),
        rule=_mean,
        keras=_mean_keras,
        torch_class=None,
        prefix="mean",
        forward="{x}.mean(dim={dim})",
        doc=f"{DOCS}torch.mean.html",
    ),
    kind(
        "TakeToken",
        "Shape",
        "Keeps one time step or token of [N, T, D] -> [N, D] (0: the first, e.g. a class token; -1: the last).",
        P("index", "int", 0, "Which step or token to keep (negative counts from the end).", min=-4096, max=4096),
        rule=_take_token,
        torch_class=None,
        display="Take token",
        prefix="token",
        memory="input",
        forward="{x}[:, {index}]",
        dtype_neutral=True,
        doc="https://pytorch.org/docs/stable/tensor_view.html",
    ),
    kind(
        "Identity",
        "Shape",
        "Passes its input through unchanged (a placeholder).",
        from_torch=lambda m: {},
        keras=simple("layers.Identity"),
        prefix="identity",
        memory="input",
        dtype_neutral=True,
    ),
)
