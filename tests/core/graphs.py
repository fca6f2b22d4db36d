"""Random valid graphs for property tests: grown one layer at a time, keeping only layers that fit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.model.analysis import analyze
from core.model.catalog import LAYERS, ParamSpec
from core.model.graph import Graph
from core.model.node import Edge

# draw(kind, *args): "int"(lo, hi) | "float"(lo, hi) | "bool"() | "choice"(seq)
Draw = Callable[..., Any]

SKIP = {"Input", "Output", "Add", "Multiply", "Concat", "ScaledDotProductAttention"}
SPATIAL = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d", "LSTM", "GRU"]
# layers that fit only some inputs (volumes, sequences of tokens, channels divisible by r*r): drawn more often too
PICKY = [
    "Conv3d",
    "MaxPool3d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "Dropout1d",
    "PixelShuffle",
    "MultiheadAttention",
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "PositionalEmbedding",
    "Mean",
    "TakeToken",
]
GROWABLE = sorted(k for k in LAYERS if k not in SKIP) + SPATIAL * 2 + PICKY * 2  # they fit less often: draw more


def _value(p: ParamSpec, draw: Draw) -> Any:
    lo = int(p.min) if p.min is not None else 0
    if p.kind == "bool":
        return draw("bool")
    if p.kind == "choice":
        return draw("choice", p.choices)
    if p.kind == "size" and p.choices and draw("int", 0, 2) == 0:
        return draw("choice", p.choices)  # padding "same" / "valid"
    if p.name == "index":
        return draw("int", -2, 2)
    if p.name in ("num_heads", "nhead", "upscale_factor", "num_parameters"):
        return draw("int", 1, 2)
    if p.kind == "float" and p.name in ("min_val", "max_val", "init"):
        return draw("choice", (-1.0, 0.0, 0.5, 1.0))
    if p.kind == "float":
        hi = float(p.max) if p.max is not None else float(lo) + 2.0
        hi = min(hi, float(lo) + 2.0)
        return round(draw("float", float(p.min or 0.0), hi), 3)
    if p.kind in ("int", "size"):
        if p.name in ("dim", "start_dim", "end_dim"):
            return draw("int", -3, 3) if p.min is not None and p.min < 0 else draw("int", 1, 3)
        if p.kind == "size" and p.dims == 4:
            return draw("choice", (0, 1, [1, 0, 2, 1]))
        return draw("int", lo, lo + (6 if p.name.startswith(("out", "hidden", "num_emb", "embedding")) else 2))
    if p.kind == "ints":
        if p.name == "dims":
            return draw("choice", ([1], [2, 1], [1, 2], [3, 1, 2], [1, 3, 2], [2, 3, 1]))
        if p.name == "shape":
            return draw("choice", ([-1], [2, -1], [-1, 2], [4, -1], [1, -1, 2]))
        return draw("choice", ([1, 4], [2, 2], [4, 1], [1, 2, 2], [2, 2, 1]))
    raise AssertionError(p.kind)


def random_input(draw: Draw) -> dict[str, Any]:
    kind = draw("choice", ("image", "features", "sequence", "tokens", "volume"))
    if kind == "volume":
        return {"shape": [draw("int", 1, 2), draw("int", 2, 5), draw("int", 2, 6), draw("int", 2, 6)]}
    if kind == "image":
        return {"shape": [draw("int", 1, 3), draw("int", 4, 12), draw("int", 4, 12)]}
    if kind == "features":
        return {"shape": [draw("int", 1, 24)]}
    if kind == "sequence":
        return {"shape": [draw("int", 1, 6), draw("int", 1, 8)]}
    return {"shape": [draw("int", 1, 6)], "dtype": "int64"}


def random_graph(draw: Draw, max_layers: int = 7) -> Graph:
    """A valid graph: Input, up to ``max_layers`` layers (sometimes a merge with an earlier node), Output."""
    graph = Graph()
    current = graph.add("Input", **random_input(draw))
    produced = [current]
    for _ in range(draw("int", 1, max_layers)):
        if len(produced) > 1 and draw("int", 0, 4) == 0:
            layer = draw("choice", ("Add", "Multiply", "Concat", "ScaledDotProductAttention"))
            other = produced[draw("int", 0, len(produced) - 2)]
            params: dict[str, Any] = {"dim": draw("int", 1, 2)} if layer == "Concat" else {}
            node = graph.add(layer, **params)
            graph.connect(Edge(current.id, node.id, 0))
            graph.connect(Edge(other.id, node.id, 1))
            if layer == "ScaledDotProductAttention":  # query from the last layer, key and value from the other
                graph.connect(Edge(other.id, node.id, 2))
        else:
            layer = draw("choice", GROWABLE)
            spec = LAYERS[layer]
            params = {p.name: _value(p, draw) for p in spec.params if not p.auto and draw("int", 0, 2) == 0}
            try:
                node = graph.add(layer, **params)
            except Exception:
                continue
            graph.connect(Edge(current.id, node.id))
        # a problem may land on an earlier node (an in-place layer whose input the merge now also reads)
        if any(p.severity == "error" and p.node_id is not None for p in analyze(graph).problems):
            for edge in graph.edges_of(node.id):
                graph.disconnect(edge)
            graph.remove_node(node.id)
            continue
        current = node
        produced.append(node)
    out = graph.add("Output")
    graph.connect(Edge(current.id, out.id))
    return graph


def random_draw(rng: Any) -> Draw:
    """A Draw backed by random.Random (for tests that want many graphs without Hypothesis)."""

    def draw(kind: str, *args: Any) -> Any:
        if kind == "int":
            return rng.randint(args[0], args[1])
        if kind == "float":
            return rng.uniform(args[0], args[1])
        if kind == "bool":
            return rng.random() < 0.5
        return rng.choice(list(args[0]))

    return draw


def hypothesis_draw(data: Any) -> Draw:
    from hypothesis import strategies as st

    def draw(kind: str, *args: Any) -> Any:
        if kind == "int":
            return data.draw(st.integers(args[0], args[1]))
        if kind == "float":
            return data.draw(st.floats(args[0], args[1], allow_nan=False, allow_infinity=False))
        if kind == "bool":
            return data.draw(st.booleans())
        return data.draw(st.sampled_from(list(args[0])))

    return draw
