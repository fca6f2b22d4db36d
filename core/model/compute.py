"""How much arithmetic one sample costs a network, read from the shapes and parameter counts that analysis already
knows (as ``core.model.memory`` reads memory from them), never from tensors.

A weight is used once per position it slides over: a convolution's at every pixel of its output, a Linear's or a
recurrent layer's at every step of a sequence (once for a flat input), a normalisation's at every position of its
channels. The count is the forward pass's multiply-adds; training costs about three times as much (the backward
pass computes two products per weight). Attention's own products (query by key) and the elementwise layers are left
out: beside the weights' products they are small for the networks this counts. What it is for: a network of few
parameters can still be much arithmetic (a ResNet on 32x32 pictures: 43 thousand parameters, 18 million
multiply-adds a sample), which decides whether training gains from more CPU threads (``core.code.script_loop``).
"""

from __future__ import annotations

import math

from core.model.analysis import Analysis
from core.model.catalog import LAYERS
from core.model.graph import Graph

# Layers whose channels come first ([N, C, ...]): their weights act at every position after the channels.
_CHANNELS_FIRST = {
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "GroupNorm",
    "LayerNorm2d",
    "PReLU",
}
_LOOKUPS = {"Embedding", "LearnedTensor", "PositionalEmbedding"}  # weights read, not multiplied


def multiply_adds(graph: Graph, analysis: Analysis) -> int:
    """The forward pass's multiply-adds for one sample, blocks' layers included (an estimate: see the module)."""
    total = 0
    for node_id in analysis.order or [n.id for n in graph.nodes]:
        node, info = graph.node(node_id), analysis.nodes.get(node_id)
        if info is None or not info.used:
            continue
        if node.block is not None and info.inner:
            total += sum(multiply_adds(inner_graph, inner) for inner_graph, inner in info.inner)
            continue
        if not info.param_count or node.type in _LOOKUPS or node.type not in LAYERS:
            continue
        category = LAYERS[node.type].category
        # a recurrent layer's weights act at every step of its input, whatever it returns
        shape = info.in_shapes[0] if category == "Recurrent" and info.in_shapes else info.out_shape
        if shape is None:
            continue
        sizes = [1 if d is None else max(int(d), 0) for d in shape]
        channels_first = category == "Convolution" or node.type in _CHANNELS_FIRST
        positions = math.prod(sizes[2:]) if channels_first else math.prod(sizes[1:-1])
        total += info.param_count * positions
    return total
