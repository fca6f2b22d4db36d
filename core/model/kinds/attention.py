"""Attention: self-attention, Transformer encoder layers (one, or a stack), attention written out on query, key
and value (``F.scaled_dot_product_attention``, as nanoGPT calls it) and what sequence models put around them (a
learned positional embedding; the positions 0 … T-1 that a table of position vectors, an Embedding, looks up).

Two of them have no single torch class, so the generated file defines a small class for them (``helper``): it
reads like hand-written PyTorch and keeps torch's state_dict keys (the stack is an ``nn.TransformerEncoder``,
whose class text, written for the options a network sets, is ``core.model.kinds.encoder_stack``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from core.model.kinds.encoder_stack import TRANSFORMER_ENCODER, encoder_stack_for
from core.model.kinds.kind import NotImportable, P, auto, kind
from core.model.kinds.shapes import RuleContext, Shape, fmt
from core.model.kinds.spec import DOCS, ParamSpec


def _encoder_layer() -> tuple[ParamSpec, ...]:
    """nn.TransformerEncoderLayer's arguments, shared by one layer and the stack."""
    return (
        auto("d_model", "Features per token (filled from the input shape)."),
        P("nhead", "int", 4, "Attention heads; d_model must be divisible by it.", min=1, max=64, positional=True),
        P("dim_feedforward", "int", 2048, "Width of the feed-forward part (often 2-4 x d_model).", min=1),
        P("dropout", "float", 0.1, "Dropout inside the layer during training.", min=0.0, max=1.0),
        P("activation", "choice", "relu", "Activation of the feed-forward part.", choices=("relu", "gelu")),
        P("layer_norm_eps", "float", 1e-5, "Small constant of the layer norms.", min=0.0),
        P("norm_first", "bool", False, "Normalise before attention and feed-forward (pre-LN: trains more stably)."),
        P("bias", "bool", True, "Learn biases in the linear layers and layer norms."),
    )


POSITIONAL_EMBEDDING = '''
class PositionalEmbedding(nn.Module):
    """Adds a learned vector to each position of a sequence [N, T, D] (BERT, ViT)."""

    def __init__(self, seq_len: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, seq_len, dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight
'''

# The kinds whose generated class is written for the parameters of the network's nodes (core.model.catalog's
# helper_lines); every other helper is one text.
SPECIALISED_HELPERS: dict[str, Callable[[Iterable[Mapping[str, Any]]], str]] = {"TransformerEncoder": encoder_stack_for}

_SEQUENCE_FIX = "add an Embedding before it (token ids), or set the Input shape to [steps, features]"


def _tokens(ctx: RuleContext, key: str, heads: str | None) -> Shape:
    """The [N, T, D] input, with D filled into ``key`` and checked against the number of heads."""
    x = ctx.need_rank((3,), "sequences [N, T, D]", _SEQUENCE_FIX)
    d = int(x[2])  # type: ignore[arg-type]
    expected = ctx.auto(key, d)
    if expected != d:
        raise ctx.fail(
            f"{ctx.name} expects {expected} features per token but receives {fmt(x)}: set {key} to {d}, "
            "or unpin it so it follows the input"
        )
    if heads is not None and d % ctx.params[heads]:
        options = ", ".join(str(h) for h in range(1, min(d, 16) + 1) if d % h == 0)
        raise ctx.fail(
            f"{ctx.name} splits {d} features into {ctx.params[heads]} heads, but {d} is not divisible by "
            f"{ctx.params[heads]}: set {heads} to one of {options}, or change the features before it"
        )
    return x


def _attention(ctx: RuleContext) -> Shape:
    return _tokens(ctx, "embed_dim", "num_heads")


def attention_count(d: int, bias: bool) -> int:
    """Query, key, value and output projections: 4 d x d weights (+ 4 d biases)."""
    return 4 * d * d + (4 * d if bias else 0)


def _encoder(ctx: RuleContext) -> Shape:
    return _tokens(ctx, "d_model", "nhead")


def encoder_layer_count(p: dict[str, Any]) -> int:
    """Attention, two linear layers and two layer norms (torch's bias=False drops all their biases)."""
    d, ff, bias = p["d_model"], p["dim_feedforward"], p["bias"]
    linear = 2 * d * ff + ((ff + d) if bias else 0)
    norms = 2 * (2 * d if bias else d)
    return attention_count(d, bias) + linear + norms


def _stack_count(p: dict[str, Any]) -> int:
    norm = (2 * p["d_model"] if p["bias"] else p["d_model"]) if p["final_norm"] else 0
    return int(p["num_layers"]) * encoder_layer_count(p) + norm


def _stack_from_torch(m: Any) -> dict[str, Any]:
    """An nn.TransformerEncoder of identical layers (nn.Transformer's encoder), read from its first layer; the
    import reads a causal mask passed to it (``causal``)."""
    layer = m.layers[0]
    if not getattr(m, "batch_first", layer.self_attn.batch_first):
        raise NotImportable("an nn.TransformerEncoder without batch_first=True (sequence first) is not supported")
    bias = layer.linear1.bias is not None
    norm = m.norm
    if norm is not None and not (
        type(norm).__name__ == "LayerNorm" and norm.eps == layer.norm1.eps and (norm.bias is not None) == bias
    ):
        raise NotImportable("its final norm is not a LayerNorm like those of its layers")
    activation = {1: "relu", 2: "gelu"}.get(int(getattr(layer, "activation_relu_or_gelu", 0)))
    if activation is None:
        raise NotImportable("only the relu and gelu activations are supported")
    return {
        "nhead": int(layer.self_attn.num_heads),
        "num_layers": len(m.layers),
        "final_norm": norm is not None,
        "dim_feedforward": int(layer.linear1.out_features),
        "dropout": float(layer.dropout.p),
        "activation": activation,
        "layer_norm_eps": float(layer.norm1.eps),
        "norm_first": bool(layer.norm_first),
        "bias": bias,
    }


def _positional(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((3,), "sequences [N, T, D]", _SEQUENCE_FIX)
    for key, size, what in (("seq_len", x[1], "steps"), ("dim", x[2], "features per token")):
        expected = ctx.auto(key, size)
        if expected != size:
            raise ctx.fail(
                f"{ctx.name} holds a vector for {expected} {what} but receives {fmt(x)}: set {key} to {size}, "
                "or unpin it so it follows the input"
            )
    return x


def _positions(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(tuple(range(2, 9)), "a sequence [N, T, ...]", "its dimension 1 holds the steps")
    ctx.dtype = "int64"  # indices for an Embedding, as torch.arange gives them
    return (x[0], x[1])


def _encoding(ctx: RuleContext) -> Shape:
    x = ctx.need_rank((3,), "sequences [N, T, D]", _SEQUENCE_FIX)
    d = ctx.auto("dim", int(x[2]))  # type: ignore[arg-type]
    if d != x[2] or d % 2:
        fix = f"set dim to {x[2]}" if d != x[2] else "give it an even number of features"
        raise ctx.fail(
            f"{ctx.name} adds sines and cosines to {d} features (an even number) but receives {fmt(x)}: {fix}"
        )
    if int(x[1]) > ctx.params["max_len"]:  # type: ignore[arg-type]
        raise ctx.fail(f"{ctx.name} holds {ctx.params['max_len']} positions but receives {fmt(x)}: raise max_len")
    return x


def _qkv(ctx: RuleContext) -> Shape:
    """Query [N, ..., L, E], key [N, ..., S, E], value [N, ..., S, Ev] -> [N, ..., L, Ev]."""
    q, k, v = ctx.ins
    names = ("query", "key", "value")
    listing = ", ".join(f"{n} {fmt(s)} (from {src})" for n, s, src in zip(names, ctx.ins, ctx.sources, strict=False))
    if not 3 <= len(q) == len(k) == len(v):
        raise ctx.fail(
            f"{ctx.name} needs query, key and value with the same number of dimensions, at least [N, T, D], but "
            f"receives {listing}: reshape them to [N, heads, T, D] alike"
        )
    if q[:-2] != k[:-2] or k[:-2] != v[:-2]:
        raise ctx.fail(f"{ctx.name}: the leading dimensions (batch, heads) of {listing} must be the same")
    if q[-1] != k[-1]:
        raise ctx.fail(f"{ctx.name}: query and key must have as many features per step, not {listing}")
    if k[-2] != v[-2]:
        raise ctx.fail(f"{ctx.name}: key and value must have as many steps, not {listing}")
    if any(d == "int64" for d in ctx.in_dtypes):
        raise ctx.fail(f"{ctx.name} receives whole-number token ids: add an Embedding layer before it")
    return (*q[:-1], v[-1])


def _attention_from_torch(m: Any) -> dict[str, Any]:
    if not m.batch_first:
        raise NotImportable("an nn.MultiheadAttention without batch_first=True (sequence first) is not supported")
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        raise NotImportable("kdim, vdim, add_bias_kv and add_zero_attn are not supported")
    return {"num_heads": int(m.num_heads), "dropout": float(m.dropout), "bias": m.in_proj_bias is not None}


POSITIONAL_ENCODING = '''
class PositionalEncoding(nn.Module):
    """Adds fixed sine and cosine waves of each position to [N, T, D] (Attention Is
    All You Need), then dropout. The table pe is [max_len, 1, D] (pytorch/examples)."""

    def __init__(self, dim: int, max_len: int = 5000, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len, dtype=torch.float).unsqueeze(1)
        rate = torch.exp(torch.arange(0, dim, 2).float() * (-9.210340371976184 / dim))
        pe = torch.zeros(max_len, dim)  # -9.21...: -ln(10000)
        pe[:, 0::2] = torch.sin(position * rate)
        pe[:, 1::2] = torch.cos(position * rate)
        self.register_buffer("pe", pe.unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[: x.size(1)].transpose(0, 1))
'''

POSITIONS = '''
class Positions(nn.Module):
    """0, 1 ... T-1 for each sample of [N, T, ...]: the positions a table of position
    vectors (an nn.Embedding) looks up, as GPT's torch.arange(t) does."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(x.size(1), device=x.device)
        return steps.expand(x.size(0), -1)  # one row per sample, without copying
'''

ATTENTION = '''
class ScaledDotProductAttention(nn.Module):
    """softmax(q k^T / sqrt(d)) v on query, key and value [N, heads, T, d]
    (F.scaled_dot_product_attention); causal: each step sees only earlier steps."""

    def __init__(self, is_causal: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.is_causal, self.dropout = is_causal, dropout

    def forward(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
    ) -> torch.Tensor:
        p = self.dropout if self.training else 0.0
        return nn.functional.scaled_dot_product_attention(
            q, k, v, dropout_p=p, is_causal=self.is_causal
        )
'''

_HEADS = P("num_heads", "int", 4, "Attention heads; embed_dim must be divisible by it.", min=1, max=64, positional=True)

KINDS = (
    kind(
        "MultiheadAttention",
        "Attention",
        "Self-attention over sequences [N, T, D]: each token mixes in the tokens it attends to.",
        auto("embed_dim", "Features per token (filled from the input shape)."),
        _HEADS,
        P("dropout", "float", 0.0, "Dropout on the attention weights during training.", min=0.0, max=1.0),
        P("bias", "bool", True, "Learn biases in the input and output projections."),
        rule=_attention,
        count=lambda p: attention_count(p["embed_dim"], p["bias"]),
        from_torch=_attention_from_torch,
        display="Self-attention",
        prefix="attn",
        extra=(("batch_first", True),),
        forward="{module}({x}, {x}, {x}, need_weights=False)",
        returns_state=True,
    ),
    kind(
        "TransformerEncoderLayer",
        "Attention",
        "One Transformer encoder layer on [N, T, D]: self-attention and a feed-forward part, each with a residual.",
        *_encoder_layer(),
        rule=_encoder,
        count=encoder_layer_count,
        display="Transformer layer",
        prefix="encoder_layer",
        extra=(("batch_first", True),),
    ),
    kind(
        "TransformerEncoder",
        "Attention",
        "A stack of num_layers Transformer encoder layers on [N, T, D] (an nn.TransformerEncoder).",
        *_encoder_layer()[:2],
        P("num_layers", "int", 2, "How many encoder layers are stacked.", min=1, max=48, always=True),
        P("final_norm", "bool", False, "A LayerNorm after the last layer (nn.Transformer's encoder has one)."),
        P("causal", "bool", False, "Each step attends only to itself and earlier steps (a language model)."),
        *_encoder_layer()[2:],
        rule=_encoder,
        count=_stack_count,
        from_torch=_stack_from_torch,
        imports=("torch.nn.modules.transformer.TransformerEncoder",),  # drawn by the helper class below
        torch_class="TransformerEncoderStack",
        display="Transformer encoder",
        prefix="encoder",
        doc=f"{DOCS}torch.nn.TransformerEncoder.html",
        helper=TRANSFORMER_ENCODER,
    ),
    kind(
        "PositionalEmbedding",
        "Attention",
        "Adds a learned vector per position to [N, T, D], so attention knows the order of the tokens.",
        auto("seq_len", "Sequence length T (filled from the input shape)."),
        auto("dim", "Features per token D (filled from the input shape)."),
        rule=_positional,
        count=lambda p: int(p["seq_len"] * p["dim"]),
        torch_class="PositionalEmbedding",
        display="Positional embedding",
        prefix="pos_embedding",
        doc=f"{DOCS}torch.nn.parameter.Parameter.html",
        helper=POSITIONAL_EMBEDDING,
    ),
    kind(
        "PositionalEncoding",
        "Attention",
        "Adds fixed sine and cosine waves per position to [N, T, D] (Attention Is All You Need), then dropout: "
        "the order of the tokens without learning it.",
        auto("dim", "Features per token D (filled from the input shape; even)."),
        P("max_len", "int", 5000, "The most steps a sequence may have.", min=1, max=1_000_000),
        P("dropout", "float", 0.1, "Dropout after adding, during training.", min=0.0, max=1.0),
        rule=_encoding,
        torch_class="PositionalEncoding",
        display="Positional encoding",
        prefix="pos_encoder",
        doc=f"{DOCS}generated/torch.nn.Transformer.html",
        helper=POSITIONAL_ENCODING,
    ),
    kind(
        "Positions",
        "Attention",
        "The position of each step, 0, 1 … T-1, for each sample of [N, T, ...]: the indices an Embedding of "
        "position vectors looks up (GPT's torch.arange(t) into its position table).",
        rule=_positions,
        torch_class="Positions",
        prefix="positions",
        memory="shared",
        helper=POSITIONS,
        accepts_tokens=True,
        doc=f"{DOCS}generated/torch.arange.html",
    ),
    kind(
        "ScaledDotProductAttention",
        "Attention",
        "Attention on query, key and value [N, heads, T, D] (often cut from one Linear and reshaped per head): "
        "softmax(q k^T / sqrt(D)) v. Causal: each step sees only itself and the steps before it (GPT).",
        P(
            "is_causal",
            "bool",
            False,
            "Each step attends only to itself and earlier steps (a language model).",
        ),
        P("dropout", "float", 0.0, "Dropout on the attention weights during training.", min=0.0, max=1.0),
        rule=_qkv,
        torch_class="ScaledDotProductAttention",
        inputs=3,
        display="Attention (q, k, v)",
        prefix="attention",
        forward="{module}({args})",
        helper=ATTENTION,
        doc=f"{DOCS}generated/torch.nn.functional.scaled_dot_product_attention.html",
    ),
)
