"""A generated helper class holds only what the network uses (issue 24): the Transformer encoder's class gets the
``final_norm`` LayerNorm branch and the ``causal`` masked forward only when a node sets them, inside a block too;
each form computes what torch's nn.TransformerEncoder computes, under the same state_dict keys."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.code.codegen import generate_model
from core.model.block_edits import expose_arg, make_block
from core.model.graph import Graph
from tests.core.train_fixtures import example


def stack_class(source: str) -> str:
    """The text of the generated TransformerEncoderStack class (up to the next class)."""
    start = source.index("class TransformerEncoderStack(")
    return source[start : source.index("\nclass ", start)]


def encoder_graph(**params: object) -> tuple[Graph, list[str]]:
    graph = Graph()
    nodes = [graph.add("Input", shape=[5, 8]), graph.add("TransformerEncoder", **params), graph.add("Output")]
    graph.chain(nodes)
    return graph, [n.id for n in nodes]


def test_the_sequence_transformer_example_has_the_short_encoder_class() -> None:
    source = generate_model(example("sequence_transformer").graph).source
    assert "causal" not in source and "final_norm" not in source and "LayerNorm" not in source, source
    assert "def forward" not in stack_class(source)
    assert len(stack_class(source).strip().splitlines()) == 6


@pytest.mark.parametrize("final_norm", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_the_encoder_class_has_the_lines_of_the_options_set_and_computes_what_torch_does(
    final_norm: bool, causal: bool
) -> None:
    params = {"nhead": 2, "num_layers": 2, "dim_feedforward": 16, "final_norm": final_norm, "causal": causal}
    code = generate_model(encoder_graph(**params)[0])
    text = stack_class(code.source)
    assert ("final_norm" in text, "norm = nn.LayerNorm(" in text) == (final_norm, final_norm), text
    assert ("causal" in text, "def forward" in text, "generate_square_subsequent_mask" in text) == (causal,) * 3
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    model = namespace[code.class_name]().eval()
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    norm = nn.LayerNorm(8) if final_norm else None
    reference = nn.TransformerEncoder(layer, 2, norm=norm, enable_nested_tensor=False).eval()
    keys = [key.split(".", 1)[1] for key in model.state_dict()]
    assert keys == list(reference.state_dict())
    reference.load_state_dict({k: v for k, v in zip(keys, model.state_dict().values(), strict=True)})
    mask = nn.Transformer.generate_square_subsequent_mask(5) if causal else None
    with torch.no_grad():
        for batch in (2, 3):
            x = torch.randn(batch, 5, 8)
            assert torch.allclose(model(x), reference(x, mask=mask, is_causal=causal), atol=1e-6)


def test_an_option_set_inside_a_block_brings_its_lines() -> None:
    graph, ids = encoder_graph(nhead=2, num_layers=1, dim_feedforward=16, causal=True)
    make_block(graph, [ids[1]], "Part")
    text = stack_class(generate_model(graph).source)
    assert "def forward" in text and "final_norm" not in text, text


def test_an_option_a_block_argument_stands_for_brings_its_lines() -> None:
    """The block's class passes causal=causal on, whatever the instance sets: the stack must take it."""
    graph, ids = encoder_graph(nhead=2, num_layers=1, dim_feedforward=16)
    edit = make_block(graph, [ids[1]], "Part")
    definition = graph.blocks["Part"]
    (inner,) = definition.graph.nodes_of_type("TransformerEncoder")
    expose_arg(definition, inner.id, "causal")
    for causal in (False, True):
        edit.instance.params["causal"] = causal
        code = generate_model(graph)
        assert "causal=causal" in code.source and "def forward(self, x" in stack_class(code.source), code.source
        namespace: dict = {}
        exec(compile(code.source, "<generated>", "exec"), namespace)
        assert namespace[code.class_name]().part1.encoder1.causal is causal


def test_an_option_set_to_its_default_brings_nothing() -> None:
    graph, _ = encoder_graph(nhead=2, num_layers=1, dim_feedforward=16, causal=False, final_norm=False)
    text = stack_class(generate_model(graph).source)
    assert "causal" not in text and "final_norm" not in text, text
