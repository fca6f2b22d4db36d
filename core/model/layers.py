"""The catalog's entries: one ``_layer(...)`` call per layer kind, grouped as the palette shows them.

The schema (``ParamSpec``, ``LayerSpec``) and the lookups live in ``core.model.catalog``, which imports this module so
the registry is filled before anyone reads it.
"""

from __future__ import annotations

from typing import Any

from core.model.catalog import ParamKind, ParamSpec, add_layer

_layer = add_layer


def P(name: str, kind: ParamKind, default: Any, help: str, **options: Any) -> ParamSpec:
    return ParamSpec(name, kind, default, help, **options)


def _auto(name: str, help: str) -> ParamSpec:
    return P(name, "int", None, help, min=1, auto=True, positional=True)


def _size(name: str, default: Any, help: str, dims: int, **options: Any) -> ParamSpec:
    return P(name, "size", default, help, dims=dims, **options)


def _conv(dims: int, transposed: bool = False) -> tuple[ParamSpec, ...]:
    padding = (
        _size("padding", 0, "Zeros added on each side of the input.", dims, min=0)
        if transposed
        else _size(
            "padding",
            0,
            'Values added on each side of the input; "same" keeps the size (stride 1 only), "valid" adds none.',
            dims,
            min=0,
            choices=("same", "valid"),
        )
    )
    modes = (
        ()
        if transposed
        else (
            P(
                "padding_mode",
                "choice",
                "zeros",
                "What the padding holds: zeros, a mirror of the edge (reflect), the edge repeated, or the far side.",
                choices=("zeros", "reflect", "replicate", "circular"),
            ),
        )
    )
    return (
        _auto("in_channels", "Channels of the incoming tensor (filled from the input shape)."),
        P("out_channels", "int", 32, "Number of filters, i.e. channels this layer produces.", min=1, positional=True),
        _size("kernel_size", 3, "Size of each filter.", dims, min=1, always=True),
        _size("stride", 1, "Step between filter positions.", dims, min=1),
        padding,
        _size("dilation", 1, "Spacing between filter taps.", dims, min=1),
        P("groups", "int", 1, "Split channels into groups convolved separately.", min=1),
        P("bias", "bool", True, "Learn an additive bias per output channel."),
        *modes,
    )


def _pool(dims: int) -> tuple[ParamSpec, ...]:
    return (
        _size("kernel_size", 2, "Size of the pooling window.", dims, min=1, positional=True),
        _size("stride", None, "Step between windows (empty: same as the kernel size).", dims, min=1, optional=True),
        _size("padding", 0, "Padding added on each side.", dims, min=0),
        P("ceil_mode", "bool", False, "Round the output size up: a last, partial window still counts."),
    )


def _norm(features: str, affine: bool = True) -> tuple[ParamSpec, ...]:
    return (
        _auto(features, "Features or channels to normalise (filled from the input shape)."),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P("momentum", "float", 0.1, "How fast running statistics follow each batch.", min=0.0, max=1.0),
        P("affine", "bool", affine, "Learn a scale and shift after normalising."),
        P(
            "track_running_stats",
            "bool",
            affine,
            "Keep running mean and variance for evaluation (off: use each batch's statistics, also in eval).",
        ),
    )


def _inplace() -> ParamSpec:
    return P("inplace", "bool", False, "Overwrite the input instead of allocating (saves memory; the input is lost).")


def _dim(default: int, help: str) -> ParamSpec:
    return P("dim", "int", default, help, min=-8, max=8, always=True)


# --- Input and output --------------------------------------------------------------------------------------
_layer(
    "Input",
    "Input",
    "Where data enters the network; shape excludes the batch dimension N.",
    P("shape", "ints", [1, 28, 28], "Shape of one sample, without the batch dimension.", min=1),
    P(
        "dtype",
        "choice",
        "float32",
        "float32 for measurements and pixels, int64 for token ids.",
        choices=("float32", "int64"),
        codegen=False,
    ),
    torch_class=None,
    inputs=0,
    prefix="x",
    accepts_tokens=True,
    doc="https://pytorch.org/docs/stable/tensors.html",
)
_layer(
    "Output",
    "Output",
    "What the network returns (for classification: one score per class).",
    torch_class=None,
    outputs=0,
    prefix="output",
    dtype_neutral=True,
    doc="https://pytorch.org/docs/stable/generated/torch.nn.Module.html",
)

# --- Linear ------------------------------------------------------------------------------------------------
_layer(
    "Linear",
    "Linear",
    "Fully connected layer: every output is a weighted sum of all inputs.",
    _auto("in_features", "Features of the incoming tensor (filled from the input shape)."),
    P("out_features", "int", 64, "Number of output features (neurons).", min=1, positional=True),
    P("bias", "bool", True, "Learn an additive bias."),
    prefix="fc",
)
_layer(
    "Embedding",
    "Linear",
    "Looks up a learned vector for each integer token id.",
    P(
        "num_embeddings",
        "int",
        1000,
        "Vocabulary size: token ids run from 0 to this minus one.",
        min=1,
        positional=True,
    ),
    P("embedding_dim", "int", 64, "Length of each token's vector.", min=1, positional=True),
    P("padding_idx", "int", None, "Token id whose vector stays zero (empty: none).", min=0, optional=True),
    prefix="embedding",
    accepts_tokens=True,
)

# --- Convolution -------------------------------------------------------------------------------------------
_layer("Conv1d", "Convolution", "1-D convolution over sequences [N, C, L].", *_conv(1), prefix="conv")
_layer("Conv2d", "Convolution", "2-D convolution over images [N, C, H, W].", *_conv(2), prefix="conv")
_layer("Conv3d", "Convolution", "3-D convolution over volumes or clips [N, C, D, H, W].", *_conv(3), prefix="conv")
_layer(
    "ConvTranspose2d",
    "Convolution",
    "Transposed 2-D convolution: learns to upsample images.",
    *_conv(2, transposed=True)[:5],
    _size("output_padding", 0, "Extra size added to one side of the output.", 2, min=0),
    *_conv(2, transposed=True)[5:],
    prefix="deconv",
)
_layer(
    "Upsample",
    "Convolution",
    "Enlarges images or sequences by a scale factor (no learned weights).",
    P("scale_factor", "float", 2.0, "How many times larger the output is.", min=0.1, max=64.0, always=True),
    P("mode", "choice", "nearest", "How new values are computed.", choices=("nearest", "bilinear")),
    prefix="upsample",
)
_layer(
    "PixelShuffle",
    "Convolution",
    "Upsamples by moving channels into space: [N, C*r*r, H, W] -> [N, C, H*r, W*r] (sub-pixel convolution).",
    P("upscale_factor", "int", 2, "How many times larger height and width become (r).", min=1, max=16, positional=True),
    prefix="shuffle",
)

# --- Pooling -----------------------------------------------------------------------------------------------
_layer("MaxPool1d", "Pooling", "Keeps the largest value in each window of a sequence.", *_pool(1), prefix="pool")
_layer("MaxPool2d", "Pooling", "Keeps the largest value in each window of an image.", *_pool(2), prefix="pool")
_layer("MaxPool3d", "Pooling", "Keeps the largest value in each window of a volume.", *_pool(3), prefix="pool")
_layer("AvgPool1d", "Pooling", "Averages each window of a sequence.", *_pool(1), prefix="pool")
_layer("AvgPool2d", "Pooling", "Averages each window of an image.", *_pool(2), prefix="pool")
_layer(
    "AdaptiveAvgPool2d",
    "Pooling",
    "Averages an image down to a fixed output size, whatever the input size.",
    _size("output_size", 1, "Height and width of the output.", 2, min=1, positional=True),
    prefix="gap",
)
_layer(
    "AdaptiveMaxPool2d",
    "Pooling",
    "Max-pools an image down to a fixed output size, whatever the input size.",
    _size("output_size", 1, "Height and width of the output.", 2, min=1, positional=True),
    prefix="gmp",
)

# --- Normalization -----------------------------------------------------------------------------------------
_layer(
    "BatchNorm1d",
    "Normalization",
    "Normalises each feature over the batch ([N, C] or [N, C, L]).",
    *_norm("num_features"),
    prefix="bn",
)
_layer(
    "BatchNorm2d", "Normalization", "Normalises each image channel over the batch.", *_norm("num_features"), prefix="bn"
)
_layer(
    "BatchNorm3d",
    "Normalization",
    "Normalises each volume channel over the batch.",
    *_norm("num_features"),
    prefix="bn",
)
_layer(
    "InstanceNorm1d",
    "Normalization",
    "Normalises each channel of each sequence on its own [N, C, L] (no batch statistics).",
    *_norm("num_features", affine=False),
    prefix="inorm",
)
_layer(
    "InstanceNorm2d",
    "Normalization",
    "Normalises each channel of each image on its own (style transfer, small batches).",
    *_norm("num_features", affine=False),
    prefix="inorm",
)
_layer(
    "LayerNorm",
    "Normalization",
    "Normalises each sample over its last dimension.",
    P(
        "normalized_shape",
        "int",
        None,
        "Size of the last dimension (filled from the input shape).",
        min=1,
        auto=True,
        positional=True,
    ),
    P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
    P("elementwise_affine", "bool", True, "Learn a scale and shift after normalising."),
    prefix="ln",
)
_layer(
    "GroupNorm",
    "Normalization",
    "Normalises groups of channels in each sample; works with small batches.",
    P("num_groups", "int", 8, "How many groups the channels are split into.", min=1, positional=True),
    _auto("num_channels", "Channels of the incoming tensor (filled from the input shape)."),
    P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
    P("affine", "bool", True, "Learn a scale and shift after normalising."),
    prefix="gn",
)

# --- Dropout -----------------------------------------------------------------------------------------------
_layer(
    "Dropout",
    "Dropout",
    "Randomly zeroes features during training to reduce overfitting.",
    P("p", "float", 0.5, "Probability that a feature is zeroed.", min=0.0, max=1.0, positional=True),
    _inplace(),
    prefix="dropout",
)
_layer(
    "Dropout1d",
    "Dropout",
    "Randomly zeroes whole channels of sequences [N, C, L] during training.",
    P("p", "float", 0.5, "Probability that a channel is zeroed.", min=0.0, max=1.0, positional=True),
    _inplace(),
    prefix="dropout",
)
_layer(
    "Dropout2d",
    "Dropout",
    "Randomly zeroes whole image channels during training.",
    P("p", "float", 0.5, "Probability that a channel is zeroed.", min=0.0, max=1.0, positional=True),
    _inplace(),
    prefix="dropout",
)

# Shape, recurrent, merge and activation layers, and attention and Transformer layers, live in their own modules
# (one concept per module), imported in palette order (the registry keeps the order they register in).
# isort: off
from core.model import layers_shape as _shape  # noqa: E402,F401
from core.model import layers_recurrent as _recurrent  # noqa: E402,F401
from core.model import layers_merge as _merge  # noqa: E402,F401
from core.model import layers_activation as _activation  # noqa: E402,F401
from core.model import layers_attention as _attention  # noqa: E402,F401
# isort: on
