"""The textbook sequence classifier, Embedding -> LSTM -> Linear, imports exactly: the last step taken as the top
layer's final state (``out, (h, c) = self.lstm(x)``, ``h[-1]``) or as ``out[:, -1]`` becomes the drawing's LSTM
with return_sequences "last", keeping the weights' names (``lstm.weight_ih_l0``). What no drawing gives (the cell
state, another layer's state, one direction's state) is refused in words naming the line."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.verify import TOLERANCE


class Classifier(nn.Module):
    def __init__(self, cell: str = "LSTM", form: str = "state", num_layers: int = 1, bidirectional: bool = False):
        super().__init__()
        self.form = form
        self.embedding = nn.Embedding(30, 8, padding_idx=0)
        self.rnn = getattr(nn, cell)(8, 12, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(12 * (2 if bidirectional and form == "output" else 1), 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.embedding(x)
        if self.form == "output":
            out, _ = self.rnn(emb)
            return self.fc(out[:, -1])
        if isinstance(self.rnn, nn.LSTM):
            out, (h, c) = self.rnn(emb)
        else:
            out, h = self.rnn(emb)
        if self.form == "first":
            return self.fc(h[0])
        if self.form == "cell":
            return self.fc(c[-1])
        return self.fc(h[-1])


def _exact(model: nn.Module) -> dict[str, object]:
    """Import, build the generated code with the imported weights: same keys, same outputs on a batch of 3."""
    torch.manual_seed(0)
    model.eval()
    result = import_model(model, [7])
    built = build_model(result.project).module.eval()
    built.load_state_dict(result.state)
    assert list(built.state_dict()) == list(model.state_dict())
    x = torch.randint(1, 30, (3, 7), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(built(x), model(x), atol=TOLERANCE, rtol=TOLERANCE)
    (layer,) = [n for n in result.project.graph.nodes if n.type in ("LSTM", "GRU", "RNN")]
    return dict(layer.params)


@pytest.mark.parametrize("form", ["state", "output"])
def test_the_textbook_lstm_classifier_imports_exactly_with_either_last_step(form):
    params = _exact(Classifier("LSTM", form))
    assert params["return_sequences"] == "last" and params["hidden_size"] == 12


@pytest.mark.parametrize("form", ["state", "output"])
def test_a_gru_classifier_imports_exactly(form):
    assert _exact(Classifier("GRU", form))["return_sequences"] == "last"


def test_two_stacked_layers_and_h_minus_one_import_exactly():
    params = _exact(Classifier("LSTM", "state", num_layers=2))
    assert params["num_layers"] == 2


def test_the_last_output_step_of_a_bidirectional_lstm_imports_exactly():
    assert _exact(Classifier("LSTM", "output", bidirectional=True))["bidirectional"] is True


class Pooled(nn.Module):
    """The whole sequence used (averaged over the steps) beside its last step: return_sequences "sequence"."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(30, 8)
        self.rnn = nn.RNN(8, 12, num_layers=2, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embedding(x))
        return self.fc(out.mean(dim=1) + out[:, -1])


def test_the_whole_output_sequence_imports_exactly():
    params = _exact(Pooled())
    assert params["return_sequences"] == "sequence" and params["nonlinearity"] == "relu"


def _refusal(model: nn.Module) -> str:
    with pytest.raises(ModelImportError) as info:
        import_model(model.eval(), [7])
    (problem,) = info.value.problems
    return problem


def test_the_first_layers_state_of_two_stacked_layers_is_refused_naming_the_line():
    problem = _refusal(Classifier("LSTM", "first", num_layers=2))
    assert problem.startswith("`model.rnn` is a `LSTM`: h[0] at ")
    assert "(`return self.fc(h[0])`) is the final state of layer 1 of the 2 stacked layers" in problem
    assert "use `h[-1]`" in problem


def test_h_minus_one_of_a_bidirectional_lstm_is_refused_in_words():
    problem = _refusal(Classifier("LSTM", "state", bidirectional=True))
    assert "h[-1] at " in problem and "of a bidirectional LSTM is one direction's final state" in problem
    assert "use `out[:, -1]`" in problem


def test_the_cell_state_is_refused_in_words():
    problem = _refusal(Classifier("LSTM", "cell"))
    assert "forward uses its cell state c at " in problem and "(`return self.fc(c[-1])`)" in problem
    assert "indexing the batch" not in problem and "first output" not in problem


def test_a_sequence_first_lstm_is_refused_with_the_fix():
    model = Classifier("LSTM", "output")
    model.rnn = nn.LSTM(8, 12)
    problem = _refusal(model)
    assert problem.startswith("`model.rnn` is a `LSTM`: built without batch_first=True")
    assert "build it with nn.LSTM(..., batch_first=True)" in problem


class AttentionWeights(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, weights = self.attn(x, x, x)
        return self.fc(x[0] + weights)


def test_the_second_output_and_a_batch_index_are_said_as_what_the_model_uses():
    with pytest.raises(ModelImportError) as info:
        import_model(AttentionWeights().eval(), [8, 8])
    (problem,) = info.value.problems
    assert "it uses output [1] of a layer that returns two, (output, state) or (output, weights), where a " in problem
    assert "; `x[0]` (it picks from the batch dimension; a drawing keeps every sample) at " in problem
