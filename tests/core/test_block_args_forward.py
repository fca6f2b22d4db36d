"""A block argument bound to a layer that is written into ``forward`` (Permute, Reshape, Mean, Chunk...): each
instance of the block must use its own value there, not the value the class was drawn with."""

from __future__ import annotations

import torch

from core.code.codegen import generate_model
from core.model.analysis import analyze
from core.model.block_edits import expose_arg, make_block
from core.model.blocks import new_instance
from core.model.graph import Graph
from tests.core.test_codegen import instantiate


def permute_mean_net() -> Graph:
    """x [N, 2, 3, 4] -> Shuffle(dims=[2, 3, 1]) -> Shuffle(dims=[1, 3, 2]) -> Squash(dim=1) -> Squash(dim=2)."""
    g = Graph()
    x = g.add("Input", "x", shape=[2, 3, 4])
    permute = g.add("Permute", "permute", dims=[2, 3, 1])
    mean = g.add("Mean", "mean", dim=1)
    out = g.add("Output", "output")
    g.chain([x, permute, mean, out])
    shuffle = make_block(g, [permute.id], "Shuffle")
    expose_arg(shuffle.definition, shuffle.definition.graph.by_name("permute").id, "dims")
    squash = make_block(g, [mean.id], "Squash")
    expose_arg(squash.definition, squash.definition.graph.by_name("mean").id, "dim")
    first, third = shuffle.instance, squash.instance
    assert first is not None and third is not None
    second = g.add_node(new_instance(g, shuffle.definition, name="shuffle_again"))
    fourth = g.add_node(new_instance(g, squash.definition, name="squash_again"))
    for edge in list(g.edges):
        if edge.src in (first.id, third.id):
            g.disconnect(edge)
    g.chain([first, second, third, fourth, out])
    g.set_param(second.id, "dims", [1, 3, 2])
    g.set_param(fourth.id, "dim", 2)
    return g


def test_each_instance_of_a_block_uses_its_own_forward_argument():
    graph = permute_mean_net()
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    assert analysis.output_shapes(graph)[0] == (None, 2)  # [N,2,3,4] -> [N,3,4,2] -> [N,3,2,4] -> [N,2,4] -> [N,2]
    code = generate_model(graph, analysis=analysis)
    model = instantiate(code).eval()
    x = torch.randn(5, 2, 3, 4)
    expected = x.permute(0, 2, 3, 1).permute(0, 1, 3, 2).mean(dim=1).mean(dim=2)
    with torch.no_grad():
        y = model(x)
    assert y.shape == expected.shape == (5, 2), code.source
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-6)
    assert "self.dims = dims" in code.source and "x.permute(0, *self.dims)" in code.source


def test_reshape_and_chunk_arguments_reach_forward_and_two_layers_share_one_argument():
    """x [N, 24] -> Cut(pieces=2, keep=1, shape=[3, 4]) -> Flatten -> Cut(pieces=3, keep=2, shape=[2, 2]); inside
    Cut one argument sets both the Chunk's chunks and nothing else, another its index."""
    g = Graph()
    x = g.add("Input", "x", shape=[24])
    chunk = g.add("Chunk", "chunk", chunks=2, index=1)
    reshape = g.add("Reshape", "reshape", shape=[3, 4])
    flatten = g.add("Flatten", "flatten")
    out = g.add("Output", "output")
    g.chain([x, chunk, reshape, flatten, out])
    cut = make_block(g, [chunk.id, reshape.id], "Cut")
    inner = cut.definition.graph
    expose_arg(cut.definition, inner.by_name("chunk").id, "chunks", "pieces")
    expose_arg(cut.definition, inner.by_name("chunk").id, "index", "keep")
    expose_arg(cut.definition, inner.by_name("reshape").id, "shape")
    second = g.add_node(new_instance(g, cut.definition, name="cut_again"))
    for edge in list(g.edges):
        if edge.src == g.by_name("flatten").id:
            g.disconnect(edge)
    g.chain([g.by_name("flatten"), second, out])
    g.set_param(second.id, "pieces", 3)
    g.set_param(second.id, "keep", 2)
    g.set_param(second.id, "shape", [2, 2])
    analysis = analyze(g)
    assert analysis.ok, analysis.problems
    code = generate_model(g, analysis=analysis)
    model = instantiate(code).eval()
    x = torch.randn(5, 24)
    first = x.chunk(2, dim=1)[1].reshape(5, 3, 4).flatten(1)
    expected = first.chunk(3, dim=1)[2].reshape(5, 2, 2)
    with torch.no_grad():
        y = model(x)
    assert y.shape == expected.shape == (5, 2, 2), code.source
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    assert "x.chunk(self.pieces, dim=1)[self.keep]" in code.source, code.source
    assert "x.reshape(x.size(0), *self.shape)" in code.source, code.source
