"""Inputs as published models take them: several tensors (one Input node each), token ids (int64, found from the
Embedding they go into, or --input-dtype int64), and forward arguments with a default (``targets=None``,
``has_mask=True``), which are settings traced at their default, not inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.cli import main
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import parse_shapes


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Linear(6, 4)
        self.extra = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        return self.image(x) + self.extra(meta)


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, ids: torch.Tensor, targets: torch.Tensor | None = None, pool: bool = True) -> torch.Tensor:
        x = self.embed(ids)
        if pool:
            x = x.mean(dim=1)
        logits = self.head(x)
        if targets is not None:
            return logits - targets
        return logits


def test_a_forward_with_two_inputs_becomes_two_input_nodes():
    result = import_model(TwoInputs(), [[6], [3]])
    inputs = result.project.graph.nodes_of_type("Input")
    assert [n.params["shape"] for n in inputs] == [[6], [3]]
    assert result.max_difference == 0.0


def test_the_wrong_number_of_shapes_is_a_message_naming_the_inputs():
    with pytest.raises(ModelImportError, match=r"TwoInputs.forward takes 2 inputs \(x, meta\) but 1 shape was given"):
        import_model(TwoInputs(), [6])


def test_token_ids_are_found_from_the_embedding_and_defaults_are_settings():
    result = import_model(Tokens(), [12])
    (ids,) = result.project.graph.nodes_of_type("Input")
    assert ids.params == {"shape": [12], "dtype": "int64"}
    assert result.max_difference == 0.0
    assert {n.type for n in result.project.graph.nodes} >= {"Embedding", "Mean", "Linear"}


def test_shapes_for_several_inputs_are_read_from_the_command_line(tmp_path, capsys):
    assert parse_shapes("3,32,32; 10") == [[3, 32, 32], [10]]
    source = tmp_path / "two.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n\nclass Two(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.a = nn.Linear(6, 4)\n        self.b = nn.Linear(3, 4)\n\n"
        "    def forward(self, x, y):\n        return self.a(x) + self.b(y)\n",
        encoding="utf-8",
    )
    out = tmp_path / "two.json"
    assert main(["import", f"{source}:Two", "-o", str(out), "--input-shape", "6;3"]) == 0, capsys.readouterr().err
    assert out.is_file()


def test_int64_can_be_asked_for_when_no_embedding_says_so(tmp_path, capsys):
    class Ids(nn.Module):
        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return ids.flatten(1)

    result = import_model(Ids(), [4], input_dtype="int64", check=False)
    assert result.project.graph.nodes_of_type("Input")[0].params["dtype"] == "int64"


class Recurrent(nn.Module):
    """As pytorch/examples' word_language_model writes it: forward takes the LSTM's state, built by init_hidden."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Embedding(20, 8)
        self.rnn = nn.LSTM(8, 8)

    def forward(self, input: torch.Tensor, hidden: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        output, hidden = self.rnn(self.encoder(input), hidden)
        return output

    def init_hidden(self, bsz: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(1, bsz, 8), torch.zeros(1, bsz, 8)


def test_a_recurrent_state_passed_to_forward_starts_from_zeros_with_a_note_instead_of_asking_for_its_shape():
    """Issue 23: the state init_hidden builds is zeros, where a drawing's LSTM starts: no input for it, a note."""
    model = Recurrent().eval()
    result = import_model(model, [12])
    assert [n.name for n in result.project.graph.nodes_of_type("Input")] == ["x"]
    assert (
        "`hidden`, an input of Recurrent.forward, is the starting state of `model.rnn` (an `nn.LSTM`): the drawing's "
        "LSTM starts from zeros, as init_hidden builds it, so it has no input for it" in " ".join(result.notes)
    )
    assert result.calling.zero_states == ["hidden"]
