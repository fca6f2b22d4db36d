"""The values a block definition's automatic numbers take in the network being generated, to write the ones every
instance agrees on as numbers.

A block's class takes an argument for each automatic value that does not follow its input's channels (a Linear
on tokens [N, T, D] reads D, which no channel count gives): written once, the class must serve every instance.
But a class used where all instances take the same number (an imported ViT's encoder blocks: 64 everywhere)
with one argument per layer reads ``EncoderBlock(64, 64, 64, 64, 128)`` where a person writes
``EncoderBlock()`` with ``nn.LayerNorm(64)`` inside. So each generation first notes every instance of every
definition (``instance_values``), and an automatic value all of a definition's instances agree on is written as
its number (``one_value``); only those that differ stay arguments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from core.model.analysis import Analysis
from core.model.blocks import instance_at
from core.model.graph import Graph

ENTERING = "\1in"  # the key of an extra argument: the channels entering a nested block's port (``extra_value``)
NOT_ONE = object()  # ``one_value``'s answer where the instances differ (or nothing is known)

# definition name -> the analysis of each of its instances' graphs, in this generation
_INSTANCES: ContextVar[dict[str, list[Analysis]] | None] = ContextVar("block_instances", default=None)


@contextmanager
def instance_values(graph: Graph, analysis: Analysis) -> Iterator[None]:
    """Note every instance of every definition ``graph`` uses (nested ones too) for one generation."""
    found: dict[str, list[Analysis]] = {}
    _collect(graph, analysis, found)
    token = _INSTANCES.set(found)
    try:
        yield
    finally:
        _INSTANCES.reset(token)


def _collect(graph: Graph, analysis: Analysis, found: dict[str, list[Analysis]]) -> None:
    for nid in analysis.order:
        node = graph.node(nid)
        info = analysis.nodes.get(nid)
        if node.block is None or info is None:
            continue
        for index, (inner_graph, inner) in enumerate(info.inner):
            defn, _ = instance_at(graph, node, index)
            found.setdefault(defn.name, []).append(inner)
            _collect(inner_graph, inner, found)


def extra_value(analysis: Analysis, nid: str, param: str) -> Any:
    """An auto argument's number for one instance; ``param`` "\0copy\0inner node\0param" looks inside a block."""
    if param.startswith("\0"):
        _, index, inner_id, rest = param.split("\0", 3)
        return extra_value(analysis.nodes[nid].inner[int(index)][1], inner_id, rest)
    if param.startswith(ENTERING):
        shape = analysis.nodes[nid].in_shapes[int(param[len(ENTERING) :])]
        return shape[1] if shape is not None else None
    return analysis.nodes[nid].params[param]


def one_value(block: str | None, nid: str, param: str) -> Any:
    """The number ``param`` of node ``nid`` (as ``extra_value`` reads it) takes in every instance of definition
    ``block`` in this generation, or ``NOT_ONE`` where they differ, or no generation noted them."""
    found = _INSTANCES.get()
    analyses = found.get(block or "") if found is not None else None
    if not analyses:
        return NOT_ONE
    seen: set[str] = set()
    first: Any = None
    for inner in analyses:
        try:
            value = extra_value(inner, nid, param)
        except (KeyError, IndexError, ValueError):
            return NOT_ONE
        if value is None:
            return NOT_ONE
        seen.add(json.dumps(value, default=repr))  # 1, 1.0 and True are one value to ==, not in code
        first = value
    return first if len(seen) == 1 else NOT_ONE
