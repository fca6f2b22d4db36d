"""The two kinds nanoGPT's forward needs, drawn by hand: Positions (0 … T-1 per sample, what a table of position
vectors looks up) and Attention (q, k, v) (``F.scaled_dot_product_attention``). Their shape rules, their messages,
and generated code that computes what torch computes, at more than one batch size."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.code.codegen import generate_model
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.node import Edge


def built(graph: Graph) -> torch.nn.Module:
    code = generate_model(graph)
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return namespace[code.class_name]().eval()


def attention_graph(shapes: list[list[int]], **params) -> tuple[Graph, str]:
    graph = Graph()
    inputs = [graph.add("Input", shape=s) for s in shapes]
    node = graph.add("ScaledDotProductAttention", **params)
    out = graph.add("Output")
    for port, source in enumerate(inputs if len(inputs) == 3 else inputs * 3):
        graph.connect(Edge(source.id, node.id, port))
    graph.connect(Edge(node.id, out.id))
    return graph, node.id


def test_positions_are_the_steps_of_each_sample_as_token_ids() -> None:
    graph = Graph()
    graph.chain([graph.add("Input", shape=[5], dtype="int64"), pos := graph.add("Positions"), graph.add("Output")])
    analysis = analyze(graph)
    assert analysis.ok
    assert analysis.shape(pos.id) == (None, 5) and analysis.nodes[pos.id].dtype == "int64"
    model = built(graph)
    for batch in (2, 3):
        got = model(torch.zeros(batch, 5, dtype=torch.long))
        assert torch.equal(got, torch.arange(5).expand(batch, 5))


def test_positions_feed_a_position_table() -> None:
    graph = Graph()
    x = graph.add("Input", shape=[6, 4])  # floats: only their steps count
    graph.chain([x, graph.add("Positions"), table := graph.add("Embedding", num_embeddings=8, embedding_dim=4)])
    add = graph.add("Add")
    graph.connect(Edge(x.id, add.id, 0))
    graph.connect(Edge(table.id, add.id, 1))
    graph.chain([add, graph.add("Output")])
    model = built(graph)
    weight = dict(model.named_parameters())[f"{table.name}.weight"]
    for batch in (2, 3):
        x_value = torch.randn(batch, 6, 4)
        assert torch.equal(model(x_value), x_value + weight[:6])


@pytest.mark.parametrize("causal", [False, True])
def test_attention_computes_what_torch_computes(causal: bool) -> None:
    graph, node = attention_graph([[2, 5, 8], [2, 7, 8], [2, 7, 3]], is_causal=causal)
    analysis = analyze(graph)
    assert analysis.ok and analysis.shape(node) == (None, 2, 5, 3)
    model = built(graph)
    for batch in (2, 3):
        q, k, v = torch.randn(batch, 2, 5, 8), torch.randn(batch, 2, 7, 8), torch.randn(batch, 2, 7, 3)
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        assert torch.allclose(model(q, k, v), expected, atol=1e-6)


def test_attention_dropout_acts_only_in_training() -> None:
    graph, _ = attention_graph([[3, 4]], dropout=0.5)
    model = built(graph)
    x = torch.randn(2, 3, 4)
    assert torch.allclose(model.eval()(x), F.scaled_dot_product_attention(x, x, x), atol=1e-6)
    torch.manual_seed(0)
    assert not torch.allclose(model.train()(x), F.scaled_dot_product_attention(x, x, x), atol=1e-6)


@pytest.mark.parametrize(
    ("shapes", "words"),
    [
        ([[5, 8], [5, 8], [2, 5, 8]], "same number of dimensions"),
        ([[2, 5, 8], [3, 5, 8], [3, 5, 8]], "leading dimensions"),
        ([[5, 8], [5, 6], [5, 6]], "as many features per step"),
        ([[5, 8], [5, 8], [4, 8]], "as many steps"),
    ],
)
def test_attention_says_which_shapes_do_not_fit(shapes: list[list[int]], words: str) -> None:
    graph, node = attention_graph(shapes)
    problems = [p.message for p in analyze(graph).problems if p.node_id == node]
    assert problems and words in problems[0]
