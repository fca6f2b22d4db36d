"""A model that reads its sequences time first (``nn.LSTM(...)`` without batch_first, [steps, batch, ...]) is drawn
batch first with the same layers and weights, as pytorch/examples' word_language_model RNNModel: its starting state
``hidden`` (init_hidden's zeros) is where a drawing's LSTM starts, ``decoded.view(-1, ntoken)`` merges steps and
batch and draws nothing, and the final state it also returns is no output. Checked against the original fed the
same data transposed, at batch sizes 2 and 3; what cannot be redrawn is refused naming the line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source

WILD = Path(__file__).resolve().parents[2] / "bench" / "wild"


def check_exact(model: nn.Module, result, vocab: int, steps: int) -> None:
    """The drawing on x [N, T] gives what the original gives on x transposed (its outputs in the drawing's layout)."""
    built = build_model(result.project).module.eval()
    built.load_state_dict(result.state, strict=True)
    for batch in (2, 3):
        x = torch.randint(0, vocab, (batch, steps), generator=torch.Generator().manual_seed(batch))
        states = {}
        if result.calling.zero_states:
            states = {name: model.init_hidden(batch) for name in result.calling.zero_states}
        with torch.no_grad():
            expected = result.calling.drawn_outputs(model(x.t(), **states), batch)
            got = built(x)
        assert len(expected) == 1 and expected[0].shape == got.shape
        assert torch.allclose(expected[0], got, atol=1e-6), float((expected[0] - got).abs().max())


class Tagger(nn.Module):
    """Time first, one output per step: [T, N, classes]."""

    def __init__(self, how: str = "last dim") -> None:
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        self.rnn = nn.GRU(8, 12, num_layers=2)
        self.out = nn.Linear(12, 5)
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(self.embed(x))
        if self.how == "last step":
            return self.out(y[-1])
        return F.log_softmax(self.out(F.relu(y)), dim=-1)


def test_a_time_first_gru_is_drawn_batch_first_with_its_weights() -> None:
    torch.manual_seed(0)
    model = Tagger().eval()
    result = import_model(model, [9])
    (layer,) = result.project.graph.nodes_of_type("GRU")
    assert layer.params.get("return_sequences", "sequence") == "sequence"
    assert any("time first" in note for note in result.notes)
    assert result.calling.transposed == [True] and result.calling.layouts == ["swap"]
    check_exact(model, result, 30, 9)


def test_what_cannot_be_redrawn_batch_first_is_refused_naming_the_layer_and_line() -> None:
    with pytest.raises(ModelImportError) as caught:
        import_model(Tagger("last step").eval(), [9])
    text = str(caught.value)
    assert text.startswith("`model.rnn` is a `GRU`: built without batch_first=True")
    assert "test_import_time_first.py" in text and "`return self.out(y[-1])`" in text


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN_TANH"])
def test_word_language_model_rnn_as_published_imports_exactly(cell: str, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["model.py"])
    torch.manual_seed(0)
    source = f"{WILD / 'pytorch_examples' / 'word_language_model.py'}:RNNModel"
    model = load_source(source, [cell, 40, 16, 16, 2], []).eval()
    result = import_model(model, [7])
    assert result.max_difference is not None and result.max_difference < 1e-5
    assert set(result.state) == set(model.state_dict())
    assert result.calling.zero_states == ["hidden"] and result.calling.layouts == ["merged"]
    assert [n.name for n in result.project.graph.nodes_of_type("Input")] == ["x"]
    notes = " ".join(result.notes)
    assert "starts from zeros" in notes and "final state" in notes and "time first" in notes
    check_exact(model, result, 40, 7)


@pytest.mark.slow
def test_word_language_model_transformer_as_published_imports_exactly(monkeypatch) -> None:
    """len(src) is the steps of a time-first input; its causal mask, sqrt(d) scaling and sine table become the
    encoder's ``causal``, a Scale and PositionalEncoding (key ``pos_encoder.pe``); the model is left as it was."""
    monkeypatch.setattr(sys, "argv", ["model.py"])
    torch.manual_seed(0)
    source = f"{WILD / 'pytorch_examples' / 'word_language_model.py'}:TransformerModel"
    model = load_source(source, [40, 16, 2, 32, 2], []).eval()
    result = import_model(model, [9])
    # what forward wrote on the model while traced (a traced value) is put back: the check's real call sets it
    assert isinstance(model.src_mask, torch.Tensor) and not isinstance(model.src_mask, torch.fx.Proxy)
    assert result.max_difference is not None and result.max_difference < 1e-5
    assert set(result.state) == set(model.state_dict())
    nodes = {n.type: n for n in result.project.graph.nodes}
    assert nodes["TransformerEncoder"].params["causal"] is True and nodes["TransformerEncoder"].params["final_norm"]
    assert nodes["Scale"].params["factor"] == 4.0 and nodes["PositionalEncoding"].name == "pos_encoder"
    assert result.calling.layouts == ["swap"]
    check_exact(model, result, 40, 9)


class MaskedEncoder(nn.Module):
    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.causal = causal

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        steps = len(src)
        if self.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(steps)
        else:  # each step sees only the steps after it
            mask = torch.tril(torch.full((steps, steps), float("-inf")), diagonal=-1)
        return self.encoder(self.embed(src), mask=mask)


def test_a_time_first_encoder_with_a_causal_mask_is_drawn_causal() -> None:
    torch.manual_seed(0)
    model = MaskedEncoder(causal=True).eval()
    result = import_model(model, [6])
    (encoder,) = result.project.graph.nodes_of_type("TransformerEncoder")
    assert encoder.params["causal"] is True and not encoder.params.get("final_norm", False)
    check_exact(model, result, 30, 6)


def test_another_mask_is_refused_in_words() -> None:
    with pytest.raises(ModelImportError) as caught:
        import_model(MaskedEncoder(causal=False).eval(), [6])
    assert "an attention mask other than the causal one" in str(caught.value)
    assert "`model.encoder`" in str(caught.value)
