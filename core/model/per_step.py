"""A Linear on a sequence's steps ([N, T, H]) whose output keeps the steps is a per-step model by design (a
char-RNN's next-character scores at every step, a Transformer's per-token head): the shape rule's advice to add a
Flatten before it, made for images ([N, C, H, W] into a Linear), would break such a model. Images and
channels-first sequences out of a convolution or pooling keep the advice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.model.catalog import LAYERS
from core.model.kinds.linear import LAST_AXIS_ONLY

if TYPE_CHECKING:
    from core.model.analysis import Analysis
    from core.model.graph import Graph
    from core.model.problem import Problem

_CHANNELS_FIRST = ("Convolution", "Pooling")  # [N, C, L]: a Linear on L is the missing-Flatten slip


def drop_per_step_advice(graph: Graph, analysis: Analysis) -> None:
    """Remove the Flatten advice from each Linear whose steps reach the network's output."""
    analysis.problems[:] = [p for p in analysis.problems if not _per_step(graph, analysis, p)]


def _per_step(graph: Graph, analysis: Analysis, problem: Problem) -> bool:
    node_id = problem.node_id
    if problem.severity != "warning" or LAST_AXIS_ONLY not in problem.message or node_id not in analysis.nodes:
        return False
    info = analysis.nodes[node_id]
    if graph.node(node_id).type != "Linear" or not info.in_shapes or len(info.in_shapes[0] or ()) != 3:
        return False
    steps = info.out_shape[1] if info.out_shape else None
    outputs = [graph.node(d) for d in graph.downstream(node_id) if graph.node(d).type == "Output"]
    shapes = [analysis.shape(out.id) for out in outputs]
    if not shapes or not all(s is not None and len(s) == 3 and s[1] == steps for s in shapes):
        return False
    producer = _producer(graph, analysis, node_id)
    spec = LAYERS.get(producer) if producer else None
    return spec is None or spec.category not in _CHANNELS_FIRST


def _producer(graph: Graph, analysis: Analysis, node_id: str) -> str | None:
    """The type of the nearest layer before ``node_id`` that changed the shape (activations, norms and dropout
    pass it on unchanged)."""
    shape = analysis.nodes[node_id].in_shapes[0]
    edge = graph.inputs_of(node_id)[0]
    while edge is not None:
        source = graph.node(edge.src)
        info = analysis.nodes.get(source.id)
        ports = graph.inputs_of(source.id)
        if info is None or not ports or info.in_shapes[:1] != [shape]:
            return source.type
        edge = ports[0]
    return None
