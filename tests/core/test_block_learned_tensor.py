"""A block holding a learned tensor: its generated code builds and matches inference.

The random block property test (``test_blocks_property``) drew this case under some catalogs (case [14] between
e5028d2 and c924f0b, seeds 212, 481, 489, 530, 538 and 706 today) and failed with "torch.FloatTensor is not a
Module subclass": a one-in-one-out run of layers is written inline as ``nn.Sequential(...)``, which calls each
module on its input, but a learned tensor is an ``nn.Parameter`` used through its ``forward_template``
(``expand``), not a module to call. Which case draws it moves whenever the catalog changes, so it is kept here.
"""

from __future__ import annotations

import pytest
import torch

from core.code.codegen import generate_model
from core.model.block_edits import make_block
from core.model.graph import Graph
from core.model.node import Edge
from tests.core.test_codegen import check_forward_matches_inference, instantiate


def _chain(shape: list[int], layers: list[tuple[str, dict]]) -> tuple[Graph, list[str]]:
    graph = Graph()
    current = graph.add("Input", shape=shape)
    ids = []
    for layer, params in layers:
        node = graph.add(layer, **params)
        graph.connect(Edge(current.id, node.id))
        current = node
        ids.append(node.id)
    out = graph.add("Output")
    graph.connect(Edge(current.id, out.id))
    return graph, ids


@pytest.mark.parametrize(
    "shape, layers, chosen",
    [
        # the property test's seed 212: Hardtanh, then a block of one learned tensor, then Mish
        ([19], [("Hardtanh", {"max_val": 0.5}), ("LearnedTensor", {"shape": [1, 1, 8]}), ("Mish", {})], [1]),
        # a learned tensor in the middle of a run of layers made into a block
        ([3, 8], [("ReLU", {}), ("LearnedTensor", {"shape": [1, 2, 8]}), ("Tanh", {})], [0, 1, 2]),
        # a scale tensor without a batch dimension, first in the block
        ([4, 5, 5], [("LearnedTensor", {"shape": [4, 1, 1], "start": 0}), ("ReLU", {})], [0, 1]),
    ],
)
def test_a_block_with_a_learned_tensor_generates_code_that_matches_inference(shape, layers, chosen):
    graph, ids = _chain(shape, layers)
    make_block(graph, [ids[i] for i in chosen], "Part")
    code = check_forward_matches_inference(graph)
    # the tensor keeps one parameter under the block's attribute, as outside a block
    keys = list(instantiate(code).state_dict())
    assert any(key.startswith("part1.") for key in keys), code.source


def test_the_learned_tensor_in_a_block_is_learned():
    graph, ids = _chain([6], [("LearnedTensor", {"shape": [1, 3]})])
    make_block(graph, ids, "Part")
    model = instantiate(generate_model(graph))
    [param] = model.parameters()
    with torch.no_grad():
        param.fill_(2.0)
    assert torch.equal(model(torch.zeros(4, 6)), torch.full((4, 3), 2.0))
