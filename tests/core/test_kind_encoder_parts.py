"""The kinds a Transformer language model as pytorch/examples writes it needs, drawn by hand: Scale (x * factor),
PositionalEncoding (the fixed sine table, key ``pe``, then dropout) and the Transformer encoder's ``final_norm``
(nn.Transformer's encoder ends with a LayerNorm) and ``causal`` settings. Generated code against torch, at batch
sizes 2 and 3."""

from __future__ import annotations

import math

import torch
from torch import nn

from core.code.codegen import generate_model
from core.fx_import.modules import MODULES
from core.model.analysis import analyze
from core.model.graph import Graph


def built(*layers: tuple[str, dict], shape: list[int]) -> tuple[nn.Module, Graph]:
    graph = Graph()
    graph.chain([graph.add("Input", shape=shape), *(graph.add(k, **p) for k, p in layers), graph.add("Output")])
    code = generate_model(graph)
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return namespace[code.class_name]().eval(), graph


def pytorch_examples_table(max_len: int, d: int) -> torch.Tensor:
    """word_language_model.py's PositionalEncoding.__init__, line for line."""
    pe = torch.zeros(max_len, d)
    position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe.unsqueeze(0).transpose(0, 1)


def test_scale_multiplies_by_its_factor() -> None:
    model, _ = built(("Scale", {"factor": 2.5}), shape=[3, 4])
    x = torch.randn(2, 3, 4)
    assert torch.equal(model(x), x * 2.5)


def test_positional_encoding_holds_the_sine_table_as_a_buffer_and_adds_it_per_step() -> None:
    model, _ = built(("PositionalEncoding", {"max_len": 40}), shape=[7, 16])
    assert list(model.state_dict()) == ["pos_encoder1.pe"] and not list(model.parameters())
    table = pytorch_examples_table(40, 16)
    assert torch.equal(model.state_dict()["pos_encoder1.pe"], table)
    for batch in (2, 3):
        x = torch.randn(batch, 7, 16)
        assert torch.equal(model(x), x + table[:7].transpose(0, 1))


def test_positional_encoding_says_what_does_not_fit() -> None:
    for shape, params, words in (([7, 15], {}, "an even number"), ([9, 8], {"max_len": 8}, "raise max_len")):
        graph = Graph()
        graph.chain([graph.add("Input", shape=shape), node := graph.add("PositionalEncoding", **params)])
        problems = [p.message for p in analyze(graph).problems if p.node_id == node.id]
        assert problems and words in problems[0]


def test_encoder_final_norm_and_causal_compute_what_torch_computes() -> None:
    torch.manual_seed(0)
    params = {"nhead": 2, "num_layers": 2, "dim_feedforward": 16, "final_norm": True, "causal": True}
    model, graph = built(("TransformerEncoder", params), shape=[5, 8])
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    reference = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8), enable_nested_tensor=False).eval()
    reference.load_state_dict(next(iter(model.children())).state_dict())
    counted = analyze(graph).total_params
    assert counted == sum(p.numel() for p in reference.parameters())
    for batch in (2, 3):
        x = torch.randn(batch, 5, 8)
        mask = nn.Transformer.generate_square_subsequent_mask(5)
        with torch.no_grad():
            assert torch.allclose(model(x), reference(x, mask=mask, is_causal=True), atol=1e-6)


def test_nn_transformers_encoder_is_read_with_its_final_norm() -> None:
    encoder = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=3, dim_feedforward=32, batch_first=True).encoder
    params = MODULES["TransformerEncoder"](encoder)
    assert params["final_norm"] is True and params["num_layers"] == 3 and params["dim_feedforward"] == 32
    assert params["nhead"] == 2 and params["activation"] == "relu"
