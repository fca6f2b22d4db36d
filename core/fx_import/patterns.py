"""Calls that only mean something together, recognised in the traced graph and replaced by the one call they
are: ShuffleNet's channel shuffle (``x.view(n, g, c // g, h, w)``, ``transpose(1, 2)``, ``contiguous()``,
``x.view(n, -1, h, w)``) is ``F.channel_shuffle(x, g)``, drawn as one ChannelShuffle layer instead of three shape
layers whose sizes would tie a block to one stage's shape.

Runs after ``fold``, so the sizes are numbers and the batch size is ``BATCH``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx

from core.fx_import.fold import BATCH
from core.fx_import.trace import shape_of

_RESHAPES = {"view", "reshape"}


def _is(node: object, methods: set[str], functions: tuple[object, ...] = ()) -> bool:
    if not isinstance(node, fx.Node):
        return False
    if node.op == "call_method":
        return node.target in methods
    return node.op == "call_function" and node.target in functions


def _sizes(node: fx.Node) -> list[object]:
    sizes: list[object] = list(node.args[1:])
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = list(sizes[0])
    return sizes


def _single_user(node: fx.Node) -> bool:
    return len(node.users) == 1


def channel_shuffles(gm: fx.GraphModule) -> None:
    """Each view -> transpose(1, 2) -> [contiguous] -> view of a 4-d tensor that regroups its channels becomes
    one ``F.channel_shuffle`` call (the same values: both only move channels)."""
    for last in list(gm.graph.nodes):
        if not _is(last, _RESHAPES, (torch.reshape,)):
            continue
        chain = [last]
        value = last.args[0]
        if _is(value, {"contiguous"}):
            chain.append(value)  # type: ignore[arg-type]
            value = value.args[0]  # type: ignore[union-attr]
        if not _is(value, {"transpose"}, (torch.transpose,)) or sorted(value.args[1:3]) != [1, 2]:  # type: ignore[union-attr]
            continue
        chain.append(value)  # type: ignore[arg-type]
        first = value.args[0]  # type: ignore[union-attr]
        if not _is(first, _RESHAPES, (torch.reshape,)):
            continue
        chain.append(first)  # type: ignore[arg-type]
        x = first.args[0]  # type: ignore[union-attr]
        shape = shape_of(x)
        grouped = _sizes(first)  # type: ignore[arg-type]
        if shape is None or len(shape) != 4 or len(grouped) != 5 or grouped[0] is not BATCH:
            continue
        n, c, h, w = shape
        groups = grouped[1]
        if not isinstance(groups, int) or groups < 1 or c % groups or grouped[2:] != [c // groups, h, w]:
            continue
        back = _sizes(last)
        if len(back) != 4 or back[0] is not BATCH or back[1] not in (-1, c) or back[2:] != [h, w]:
            continue
        if not all(_single_user(node) for node in chain[1:]):
            continue
        last.op, last.target = "call_function", F.channel_shuffle
        last.args, last.kwargs = (x, groups), {}
        for node in chain[1:]:
            gm.graph.erase_node(node)
        last._rename("channel_shuffle")
