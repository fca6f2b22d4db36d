"""The layer catalog: one declarative entry per layer kind, keyed by a stable id.

Project files store the id and the parameter values; everything else (editor widgets, shape rules, generated
code, documentation links) is looked up here. Adding a layer is one ``_layer(...)`` entry plus, where its shape
is not simply passed through, one rule in ``core.shape_rules``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import ParameterError

ParamKind = Literal["int", "float", "bool", "choice", "size", "ints"]

CATEGORIES: tuple[str, ...] = (
    "Input",
    "Linear",
    "Convolution",
    "Pooling",
    "Normalization",
    "Dropout",
    "Activation",
    "Shape",
    "Recurrent",
    "Merge",
    "Output",
)

DOCS = "https://pytorch.org/docs/stable/generated/"


@dataclass(frozen=True)
class ParamSpec:
    """One constructor parameter: how to edit it, check it and emit it."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False  # None is allowed (e.g. MaxPool stride defaults to the kernel size)
    auto: bool = False  # filled from the incoming shape unless the user pins a value
    positional: bool = False  # emitted positionally in the generated constructor call
    codegen: bool = True  # False: a TorchCanvas setting, not a torch argument
    always: bool = False  # emitted as a keyword even when equal to the default (readability, or torch differs)
    dims: int = 0  # for "size": how many numbers a tuple holds (2 for Conv2d kernels)

    def validate(self, value: Any) -> Any:
        """Return the value normalised to its canonical JSON-able form, or raise ParameterError."""
        if value is None:
            if self.optional:
                return None
            raise ParameterError(f"{self.name} needs a value")
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{self.name} must be true or false, not {value!r}")
            return value
        if kind == "int":
            return self._check_range(_as_int(self.name, value))
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{self.name} must be a number, not {value!r}")
            number = float(value)
            if not math.isfinite(number):
                raise ParameterError(f"{self.name} must be a finite number, not {value!r}")
            return self._check_range(number)
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(self.choices)
                raise ParameterError(f"{self.name} must be one of {options}, not {value!r}")
            return value
        if kind == "size":
            if isinstance(value, (list, tuple)):
                if len(value) != self.dims:
                    raise ParameterError(f"{self.name} must be one number or {self.dims} numbers, not {value!r}")
                items = [self._check_range(_as_int(self.name, v)) for v in value]
                return items[0] if len(set(items)) == 1 else items
            return self._check_range(_as_int(self.name, value))
        if kind == "ints":
            if not isinstance(value, (list, tuple)) or not value:
                raise ParameterError(f"{self.name} must be a list of whole numbers, e.g. [1, 28, 28]")
            if len(value) > 8:
                raise ParameterError(f"{self.name} may hold at most 8 numbers")
            return [self._check_range(_as_int(self.name, v)) for v in value]
        raise ParameterError(f"{self.name} has an unknown kind {kind!r}")  # pragma: no cover

    def _check_range(self, value: Any) -> Any:
        if self.min is not None and value < self.min:
            raise ParameterError(f"{self.name} must be at least {_num(self.min)}, not {value}")
        if self.max is not None and value > self.max:
            raise ParameterError(f"{self.name} must be at most {_num(self.max)}, not {value}")
        return value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ParameterError(f"{name} must be a whole number, not {value!r}")
    number = int(value)
    if abs(number) > 2**31:
        raise ParameterError(f"{name} is too large: {value!r}")
    return number


@dataclass(frozen=True)
class LayerSpec:
    """A layer kind: what the palette shows, what the inspector edits and what the code generator emits."""

    id: str
    display: str
    category: str
    help: str
    torch_class: str | None  # e.g. "nn.Linear"; None where the forward line is plain tensor code
    params: tuple[ParamSpec, ...] = ()
    inputs: int = 1  # input ports; merges read their count from the num_inputs parameter
    outputs: int = 1
    name_prefix: str = "layer"
    doc_url: str = ""
    extra_args: tuple[tuple[str, Any], ...] = ()  # fixed keyword arguments, e.g. batch_first=True
    # The forward line of a layer without a torch class, as a ``str.format`` template. Names it can use: ``x`` (the
    # first input), ``args`` (all inputs, comma-separated), ``sum`` / ``product`` (inputs joined by + / *), and each
    # parameter by name (a list parameter reads as its comma-separated items).
    forward_template: str = ""
    returns_state: bool = False  # the module returns (output, state): the forward line unpacks it (LSTM, GRU, RNN)
    accepts_tokens: bool = False  # may receive whole-number token ids (int64) (Embedding; Input makes them)
    dtype_neutral: bool = False  # passes its input's dtype through (shape-only layers, merges, Output)

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.id} has no parameter {name!r}")

    def has_param(self, name: str) -> bool:
        return any(spec.name == name for spec in self.params)

    def defaults(self) -> dict[str, Any]:
        """Defaults of the parameters a user sets by hand (auto parameters are inferred instead)."""
        return {p.name: p.default for p in self.params if not p.auto}

    def input_count(self, params: dict[str, Any]) -> int:
        if self.has_param("num_inputs"):
            value = params.get("num_inputs", self.param("num_inputs").default)
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else self.inputs
        return self.inputs


LAYERS: dict[str, LayerSpec] = {}


def _layer(
    id: str,
    category: str,
    help: str,
    *params: ParamSpec,
    torch_class: str | None = "",
    display: str = "",
    inputs: int = 1,
    outputs: int = 1,
    prefix: str = "",
    doc: str = "",
    extra: tuple[tuple[str, Any], ...] = (),
    forward: str = "",
    returns_state: bool = False,
    accepts_tokens: bool = False,
    dtype_neutral: bool = False,
) -> None:
    if torch_class == "":
        torch_class = f"nn.{id}"
    url = doc or (f"{DOCS}torch.{torch_class}.html" if torch_class else "")
    LAYERS[id] = LayerSpec(
        id=id,
        display=display or id,
        category=category,
        help=help,
        torch_class=torch_class,
        params=params,
        inputs=inputs,
        outputs=outputs,
        name_prefix=prefix or id.lower(),
        doc_url=url,
        extra_args=extra,
        forward_template=forward,
        returns_state=returns_state,
        accepts_tokens=accepts_tokens,
        dtype_neutral=dtype_neutral,
    )


def P(name: str, kind: ParamKind, default: Any, help: str, **options: Any) -> ParamSpec:
    return ParamSpec(name, kind, default, help, **options)


def _auto(name: str, help: str) -> ParamSpec:
    return P(name, "int", None, help, min=1, auto=True, positional=True)


def _size(name: str, default: Any, help: str, dims: int, **options: Any) -> ParamSpec:
    return P(name, "size", default, help, dims=dims, **options)


def _conv(dims: int) -> tuple[ParamSpec, ...]:
    return (
        _auto("in_channels", "Channels of the incoming tensor (filled from the input shape)."),
        P("out_channels", "int", 32, "Number of filters, i.e. channels this layer produces.", min=1, positional=True),
        _size("kernel_size", 3, "Size of each filter.", dims, min=1, always=True),
        _size("stride", 1, "Step between filter positions.", dims, min=1),
        _size("padding", 0, "Zeros added on each side of the input.", dims, min=0),
        _size("dilation", 1, "Spacing between filter taps.", dims, min=1),
        P("groups", "int", 1, "Split channels into groups convolved separately.", min=1),
        P("bias", "bool", True, "Learn an additive bias per output channel."),
    )


def _pool(dims: int) -> tuple[ParamSpec, ...]:
    return (
        _size("kernel_size", 2, "Size of the pooling window.", dims, min=1, positional=True),
        _size("stride", None, "Step between windows (empty: same as the kernel size).", dims, min=1, optional=True),
        _size("padding", 0, "Padding added on each side.", dims, min=0),
    )


def _norm(features: str) -> tuple[ParamSpec, ...]:
    return (
        _auto(features, "Features or channels to normalise (filled from the input shape)."),
        P("eps", "float", 1e-5, "Small constant added for numerical stability.", min=0.0),
        P("momentum", "float", 0.1, "How fast running statistics follow each batch.", min=0.0, max=1.0),
        P("affine", "bool", True, "Learn a scale and shift after normalising."),
    )


def _recurrent(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    return (
        _auto("input_size", "Features per time step (filled from the input shape)."),
        P("hidden_size", "int", 128, "Size of the hidden state.", min=1, positional=True),
        P("num_layers", "int", 1, "Recurrent layers stacked on top of each other.", min=1, max=16),
        *extra,
        P("bias", "bool", True, "Use bias weights."),
        P("dropout", "float", 0.0, "Dropout between stacked layers (needs num_layers > 1).", min=0.0, max=1.0),
        P("bidirectional", "bool", False, "Also read the sequence backwards; doubles the output features."),
        P(
            "return_sequences",
            "choice",
            "last",
            "Return only the last time step [N, H] or the full sequence [N, T, H].",
            choices=("last", "sequence"),
            codegen=False,
        ),
    )


def _merge(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    num = P("num_inputs", "int", 2, "How many tensors to combine.", min=2, max=8, codegen=False)
    return (num, *extra)


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
_layer(
    "ConvTranspose2d",
    "Convolution",
    "Transposed 2-D convolution: learns to upsample images.",
    *_conv(2)[:5],
    _size("output_padding", 0, "Extra size added to one side of the output.", 2, min=0),
    *_conv(2)[5:],
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

# --- Pooling -----------------------------------------------------------------------------------------------
_layer("MaxPool1d", "Pooling", "Keeps the largest value in each window of a sequence.", *_pool(1), prefix="pool")
_layer("MaxPool2d", "Pooling", "Keeps the largest value in each window of an image.", *_pool(2), prefix="pool")
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
    prefix="dropout",
)
_layer(
    "Dropout2d",
    "Dropout",
    "Randomly zeroes whole image channels during training.",
    P("p", "float", 0.5, "Probability that a channel is zeroed.", min=0.0, max=1.0, positional=True),
    prefix="dropout",
)

# --- Activation --------------------------------------------------------------------------------------------
_layer("ReLU", "Activation", "max(0, x): the usual default activation.", prefix="relu")
_layer(
    "LeakyReLU",
    "Activation",
    "Like ReLU but lets a small slope through for negative inputs.",
    P("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0, positional=True),
    prefix="lrelu",
)
_layer(
    "ELU",
    "Activation",
    "Smooth ReLU variant with negative saturation.",
    P("alpha", "float", 1.0, "Value the output approaches for very negative inputs.", min=0.0),
    prefix="elu",
)
_layer(
    "GELU",
    "Activation",
    "Gaussian error linear unit, common in transformers.",
    P("approximate", "choice", "none", "Use the faster tanh approximation.", choices=("none", "tanh")),
    prefix="gelu",
)
_layer("SiLU", "Activation", "x * sigmoid(x), also called Swish.", prefix="silu")
_layer("Softplus", "Activation", "A smooth version of ReLU: log(1 + exp(x)).", prefix="softplus")
_layer("Sigmoid", "Activation", "Squashes values into (0, 1).", prefix="sigmoid")
_layer("Tanh", "Activation", "Squashes values into (-1, 1).", prefix="tanh")
_layer(
    "Softmax",
    "Activation",
    "Turns scores into probabilities that sum to 1 along dim.",
    _dim(1, "Dimension that sums to 1 (1: the class dimension)."),
    prefix="softmax",
)
_layer(
    "LogSoftmax",
    "Activation",
    "Log of Softmax; pair it with the NLL loss.",
    _dim(1, "Dimension that is normalised (1: the class dimension)."),
    prefix="log_softmax",
)

# --- Shape -------------------------------------------------------------------------------------------------
_layer(
    "Flatten",
    "Shape",
    "Flattens all dimensions after the batch into one: [N, C, H, W] -> [N, C*H*W].",
    P("start_dim", "int", 1, "First dimension to flatten.", min=1, max=8),
    P("end_dim", "int", -1, "Last dimension to flatten (-1: the last).", min=-8, max=8),
    prefix="flatten",
    dtype_neutral=True,
)
_layer(
    "Unflatten",
    "Shape",
    "Splits one dimension into several, e.g. [N, 784] -> [N, 1, 28, 28].",
    P("dim", "int", 1, "Dimension to split.", min=1, max=8, positional=True),
    P("unflattened_size", "ints", [1, 28, 28], "Sizes it is split into.", min=1, positional=True),
    prefix="unflatten",
    dtype_neutral=True,
)
_layer(
    "Reshape",
    "Shape",
    "Reshapes each sample; one size may be -1 to be worked out.",
    P("shape", "ints", [-1], "New shape of one sample, without the batch dimension.", min=-1),
    torch_class=None,
    prefix="reshape",
    forward="{x}.reshape({x}.size(0), {shape})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.reshape.html",
)
_layer(
    "Permute",
    "Shape",
    "Reorders the dimensions after the batch, e.g. [N, T, F] -> [N, F, T].",
    P("dims", "ints", [2, 1], "New order of dimensions 1.. (the batch dimension stays first).", min=1),
    torch_class=None,
    prefix="permute",
    forward="{x}.permute(0, {dims})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.permute.html",
)
_layer(
    "Identity", "Shape", "Passes its input through unchanged (a placeholder).", prefix="identity", dtype_neutral=True
)

# --- Recurrent ---------------------------------------------------------------------------------------------
_layer(
    "LSTM",
    "Recurrent",
    "Long short-term memory over sequences [N, T, F].",
    *_recurrent(),
    prefix="lstm",
    extra=(("batch_first", True),),
    returns_state=True,
)
_layer(
    "GRU",
    "Recurrent",
    "Gated recurrent unit over sequences [N, T, F].",
    *_recurrent(),
    prefix="gru",
    extra=(("batch_first", True),),
    returns_state=True,
)
_layer(
    "RNN",
    "Recurrent",
    "Plain (Elman) recurrent layer over sequences [N, T, F].",
    *_recurrent((P("nonlinearity", "choice", "tanh", "Activation inside the cell.", choices=("tanh", "relu")),)),
    prefix="rnn",
    extra=(("batch_first", True),),
    returns_state=True,
)

# --- Merge -------------------------------------------------------------------------------------------------
_layer(
    "Add",
    "Merge",
    "Adds tensors of the same shape element by element (residual connections).",
    *_merge(),
    torch_class=None,
    inputs=2,
    prefix="add",
    forward="{sum}",
    dtype_neutral=True,
    doc=f"{DOCS}torch.add.html",
)
_layer(
    "Multiply",
    "Merge",
    "Multiplies tensors of the same shape element by element (gating).",
    *_merge(),
    torch_class=None,
    inputs=2,
    prefix="mul",
    forward="{product}",
    dtype_neutral=True,
    doc=f"{DOCS}torch.mul.html",
)
_layer(
    "Concat",
    "Merge",
    "Joins tensors along a dimension (1: channels or features).",
    *_merge((_dim(1, "Dimension to join along (1: channels or features)."),)),
    torch_class=None,
    inputs=2,
    prefix="cat",
    forward="torch.cat([{args}], dim={dim})",
    dtype_neutral=True,
    doc=f"{DOCS}torch.cat.html",
)


def get_spec(layer_id: str) -> LayerSpec:
    from core.errors import UnknownLayerError

    try:
        return LAYERS[layer_id]
    except KeyError:
        raise UnknownLayerError(f"Unknown layer type {layer_id!r}") from None


def by_category() -> dict[str, list[LayerSpec]]:
    """Layers grouped in palette order."""
    groups: dict[str, list[LayerSpec]] = {c: [] for c in CATEGORIES}
    for spec in LAYERS.values():
        groups[spec.category].append(spec)
    return groups
