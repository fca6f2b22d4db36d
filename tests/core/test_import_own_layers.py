"""A model's own class that is one torch layer written out: nanoGPT's LayerNorm (``F.layer_norm`` on its own
``weight`` and ``bias``, so the bias can be left out) is drawn as the catalog's LayerNorm under its own name and
keeps its keys; a class that does anything more stays refused in words."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model


class LayerNorm(nn.Module):
    """As nanoGPT's model.py writes it."""

    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(8, bias=True)
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc(self.ln_1(x))


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.h = nn.Sequential(Block(), Block())
        self.ln_f = LayerNorm(8, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln_f(self.h(self.embed(x)))


class Scaled(LayerNorm):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return 2 * F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


def test_a_layernorm_written_with_f_layer_norm_is_a_layernorm_with_its_keys() -> None:
    torch.manual_seed(0)
    model = Small().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-1, 1)  # weight and bias far from ones and zeros: a wrong mapping shows
    result = import_model(model, [5, 4])
    built = build_model(result.project).module.eval()
    assert list(built.state_dict()) == list(model.state_dict())
    built.load_state_dict(model.state_dict())
    x = torch.randn(3, 5, 4)
    with torch.no_grad():
        torch.testing.assert_close(built(x), model(x), atol=1e-6, rtol=0)
    block = result.project.graph.blocks["Block"].graph
    assert [(n.type, n.name) for n in block.nodes if n.type == "LayerNorm"] == [("LayerNorm", "ln_1")]
    assert [n.type for n in result.project.graph.nodes if n.name == "ln_f"] == ["LayerNorm"]


def test_a_class_that_does_more_than_the_layer_stays_refused_in_words() -> None:
    with pytest.raises(ModelImportError, match=r"`model.1` is a `Scaled`: .*F.layer_norm"):
        import_model(nn.Sequential(nn.Linear(4, 8), Scaled(8, bias=True)), [4])
