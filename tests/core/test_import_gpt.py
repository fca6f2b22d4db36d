"""nanoGPT's forward as published (bench/wild/karpathy_nanogpt/model.py) imports exactly: ``torch.arange(t)`` into
the position table becomes Positions before the table's Embedding, ``qkv.split(n_embd, dim=2)`` three Chunk
pieces, ``F.scaled_dot_product_attention(..., is_causal=True)`` the Attention (q, k, v) layer, ``x[:, [-1], :]`` a
Slice, and ``(logits, None)`` one output. The tied ``wte`` / ``lm_head`` weights are two layers, said in a note.
Every check runs at batch sizes 2 and 3: folded shape arithmetic must not be right at one batch size only."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source, parse_args

WILD = Path(__file__).resolve().parents[2] / "bench" / "wild"


def same_outputs(model: nn.Module, result, make_input) -> None:
    """The drawing, with the original's weights, gives its outputs at batch 2 and 3."""
    built = build_model(result.project).module.eval()
    built.load_state_dict(result.state, strict=True)
    for batch in (2, 3):
        x = make_input(batch)
        with torch.no_grad():
            expected, got = model(x), built(x)
        if isinstance(expected, tuple):
            expected = [e for e in expected if e is not None]
            assert len(expected) == 1
            expected = expected[0]
        assert expected.shape == got.shape
        assert torch.allclose(expected, got, atol=1e-6), float((expected - got).abs().max())


class Attention(nn.Module):
    """nanoGPT's CausalSelfAttention, flash branch, without dropout."""

    def __init__(self, d: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.n_head, self.n_embd = heads, d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


def test_causal_attention_written_out_is_chunks_and_the_attention_layer() -> None:
    torch.manual_seed(0)
    model = Attention().eval()
    result = import_model(model, [6, 16])
    types = [
        n.type
        for g in (result.project.graph, *(d.graph for d in result.project.graph.blocks.values()))
        for n in g.nodes
    ]
    assert types.count("Chunk") == 3 and "ScaledDotProductAttention" in types
    attention = next(n for n in result.project.graph.nodes if n.type == "ScaledDotProductAttention")
    assert attention.params["is_causal"] is True
    same_outputs(model, result, lambda n: torch.randn(n, 6, 16))


class Table(nn.Module):
    """Token and position tables added, the last step kept as nanoGPT's inference does."""

    def __init__(self, start: int = 0) -> None:
        super().__init__()
        self.wte = nn.Embedding(20, 8)
        self.wpe = nn.Embedding(12, 8)
        self.head = nn.Linear(8, 20, bias=False)
        self.start = start

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        b, t = idx.size()
        pos = torch.arange(self.start, t, dtype=torch.long, device=idx.device)
        x = self.wte(idx)
        if self.start:  # steps 1 … t-1 only: positions that are not those of the input's steps
            x = x[:, self.start :]
        x = x + self.wpe(pos)
        return self.head(x[:, [-1], :]), None


def test_positions_from_arange_look_up_the_position_table_with_its_key() -> None:
    torch.manual_seed(0)
    model = Table().eval()
    result = import_model(model, [7])
    types = {n.name: n.type for n in result.project.graph.nodes}
    assert "Positions" in types.values() and types["wpe"] == "Embedding" and "Slice" in types.values()
    assert set(result.state) == set(model.state_dict())
    same_outputs(model, result, lambda n: torch.randint(0, 20, (n, 7)))


def test_arange_that_is_not_the_steps_is_refused_naming_the_line() -> None:
    with pytest.raises(ModelImportError) as caught:
        import_model(Table(start=1).eval(), [7])
    text = str(caught.value)
    assert "torch.arange(1, 7)" in text and "Positions" in text and "test_import_gpt.py" in text


def test_an_uneven_split_is_refused_in_words() -> None:
    class Uneven(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a, b = x.split(5, dim=2)
            return a

    with pytest.raises(ModelImportError, match="pieces of unequal size"):
        import_model(Uneven(), [4, 8])


@pytest.mark.slow
def test_nanogpt_as_published_imports_exactly_with_a_note_on_its_tied_weights(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["model.py"])
    torch.manual_seed(0)
    args = parse_args("config=GPTConfig(n_layer=2, n_head=2, n_embd=32, vocab_size=50, block_size=16)")
    model = load_source(f"{WILD / 'karpathy_nanogpt' / 'model.py'}:GPT", args, []).eval()
    result = import_model(model, [10])
    assert result.max_difference is not None and result.max_difference < 1e-5
    assert set(result.state) == set(model.state_dict())
    # one: the 197 aranges the shape trace made again and left unused draw no boxes that nothing reads
    assert [n.type for n in result.project.graph.nodes].count("Positions") == 1
    assert any("`lm_head.weight` and `transformer.wte.weight` are one tensor" in n for n in result.notes)
    assert any(f"{50 * 32:,} parameters more" in n for n in result.notes)
    same_outputs(model, result, lambda n: torch.randint(0, 50, (n, 10)))
    assert math.isfinite(result.max_difference)
