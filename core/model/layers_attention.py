"""The catalog's attention entries: self-attention, Transformer encoder layers and what sequence models put
around them (a learned positional embedding). Imported by ``core.model.layers`` so they register with the rest.

Two of them have no single torch class, so the generated file defines a small class for them (``helper``): it
reads like hand-written PyTorch and keeps torch's state_dict keys (the stack is an ``nn.TransformerEncoder``).
"""

from __future__ import annotations

from core.model.catalog import DOCS, ParamSpec, add_layer
from core.model.layers import P, _auto

_HEADS = P("num_heads", "int", 4, "Attention heads; embed_dim must be divisible by it.", min=1, max=64, positional=True)


def _encoder_layer() -> tuple[ParamSpec, ...]:
    """nn.TransformerEncoderLayer's arguments, shared by one layer and the stack."""
    return (
        _auto("d_model", "Features per token (filled from the input shape)."),
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

TRANSFORMER_ENCODER = '''
class TransformerEncoderStack(nn.TransformerEncoder):
    """num_layers batch-first nn.TransformerEncoderLayer(d_model, nhead, **options)."""

    def __init__(self, d_model: int, nhead: int, num_layers: int, **options) -> None:
        layer = nn.TransformerEncoderLayer(d_model, nhead, batch_first=True, **options)
        super().__init__(layer, num_layers, enable_nested_tensor=False)
'''

add_layer(
    "MultiheadAttention",
    "Attention",
    "Self-attention over sequences [N, T, D]: each token mixes in the tokens it attends to.",
    _auto("embed_dim", "Features per token (filled from the input shape)."),
    _HEADS,
    P("dropout", "float", 0.0, "Dropout on the attention weights during training.", min=0.0, max=1.0),
    P("bias", "bool", True, "Learn biases in the input and output projections."),
    display="Self-attention",
    prefix="attn",
    extra=(("batch_first", True),),
    forward="{module}({x}, {x}, {x}, need_weights=False)",
    returns_state=True,
)
add_layer(
    "TransformerEncoderLayer",
    "Attention",
    "One Transformer encoder layer on [N, T, D]: self-attention and a feed-forward part, each with a residual.",
    *_encoder_layer(),
    display="Transformer layer",
    prefix="encoder_layer",
    extra=(("batch_first", True),),
)
add_layer(
    "TransformerEncoder",
    "Attention",
    "A stack of num_layers Transformer encoder layers on [N, T, D] (an nn.TransformerEncoder).",
    *_encoder_layer()[:2],
    P("num_layers", "int", 2, "How many encoder layers are stacked.", min=1, max=48, always=True),
    *_encoder_layer()[2:],
    torch_class="TransformerEncoderStack",
    display="Transformer encoder",
    prefix="encoder",
    doc=f"{DOCS}torch.nn.TransformerEncoder.html",
    helper=TRANSFORMER_ENCODER,
)
add_layer(
    "PositionalEmbedding",
    "Attention",
    "Adds a learned vector per position to [N, T, D], so attention knows the order of the tokens.",
    _auto("seq_len", "Sequence length T (filled from the input shape)."),
    _auto("dim", "Features per token D (filled from the input shape)."),
    torch_class="PositionalEmbedding",
    display="Positional embedding",
    prefix="pos_embedding",
    doc=f"{DOCS}torch.nn.parameter.Parameter.html",
    helper=POSITIONAL_EMBEDDING,
)
