"""nanoGPT writes ``dropout_p=self.dropout if self.training else 0``; the import traces in eval mode, where that
is 0. The Attention (q, k, v) layer takes what training uses (the module's ``dropout``), and a dropout written
so that it cannot be read is said in a note naming the line, not drawn silently as its eval value."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model
from core.fx_import import import_model


class Attention(nn.Module):
    """nanoGPT's CausalSelfAttention, flash branch, as published: dropout in training only."""

    def __init__(self, d: int = 16, heads: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d)
        self.n_head, self.n_embd, self.dropout = heads, d, dropout

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.heads(x)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
        )
        return y.transpose(1, 2).flatten(2)


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(Attention(dropout=0.2), Attention(dropout=0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class Computed(Attention):
    """The dropout worked out in forward: no expression the import can read on the module."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.heads(x)
        p = self.dropout * 0.5 if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return y.transpose(1, 2).flatten(2)


def attention_nodes(result) -> list:
    graph = result.project.graph
    graphs = [graph, *(d.graph for d in graph.blocks.values())]
    return [n for g in graphs for n in g.nodes if n.type == "ScaledDotProductAttention"]


def test_dropout_in_training_only_is_read_from_the_module() -> None:
    torch.manual_seed(0)
    result = import_model(Attention().eval(), [6, 16])
    (attention,) = attention_nodes(result)
    assert attention.params["dropout"] == 0.2
    assert result.max_difference is not None and result.max_difference < 1e-6  # eval: no dropout either way
    assert not any("dropout_p" in n for n in result.notes)


def test_each_copy_in_a_stack_reads_its_own_module() -> None:
    model = Stack().eval()
    model.blocks[1].dropout = 0.3
    result = import_model(model, [6, 16])
    built = build_model(result.project).module  # a repeated block: the copies' values are its argument
    dropouts = [m.dropout for m in built.modules() if type(m).__name__ == "ScaledDotProductAttention"]
    assert dropouts == [0.2, 0.3]


def test_a_dropout_that_cannot_be_read_is_said_in_a_note_naming_the_line() -> None:
    result = import_model(Computed().eval(), [6, 16])
    (note,) = [n for n in result.notes if "dropout_p" in n]
    assert note.startswith("The attention's dropout_p is written `p` at ")
    assert "test_import_attention_dropout.py:" in note and "the drawing holds 0, its value when traced in eval" in note
