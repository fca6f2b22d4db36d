"""The catalog's activation entries (imported by ``core.model.layers``, so they register with the rest).

Activations keep the shape; where torch has ``inplace`` the entry offers it, and the generated code only writes it
when it is set (a keyword at torch's default is never emitted).
"""

from __future__ import annotations

from core.model.layers import P, _dim, _inplace, _layer

# --- Activation --------------------------------------------------------------------------------------------
_layer("ReLU", "Activation", "max(0, x): the usual default activation.", _inplace(), prefix="relu")
_layer("ReLU6", "Activation", "min(max(0, x), 6): ReLU capped at 6 (MobileNet).", _inplace(), prefix="relu")
_layer(
    "Hardtanh",
    "Activation",
    "Clips values to [min_val, max_val]: a cheap, piecewise-linear Tanh.",
    P("min_val", "float", -1.0, "Lowest output value.", min=-1e6, max=1e6),
    P("max_val", "float", 1.0, "Highest output value.", min=-1e6, max=1e6),
    _inplace(),
    prefix="hardtanh",
)
_layer(
    "Hardswish", "Activation", "A cheap, piecewise version of SiLU/Swish (MobileNetV3).", _inplace(), prefix="hswish"
)
_layer("Hardsigmoid", "Activation", "A cheap, piecewise-linear Sigmoid (MobileNetV3).", _inplace(), prefix="hsigmoid")
_layer("Mish", "Activation", "x * tanh(softplus(x)): a smooth ReLU variant (YOLOv4).", _inplace(), prefix="mish")
_layer(
    "PReLU",
    "Activation",
    "Leaky ReLU whose negative slope is learned (one slope, or one per channel).",
    P("num_parameters", "int", 1, "How many slopes: 1, or the number of channels (dimension 1).", min=1),
    P("init", "float", 0.25, "Starting value of the slopes.", min=-1e6, max=1e6),
    prefix="prelu",
)
_layer(
    "SELU", "Activation", "Scaled ELU: keeps activations normalised in deep plain networks.", _inplace(), prefix="selu"
)
_layer(
    "LeakyReLU",
    "Activation",
    "Like ReLU but lets a small slope through for negative inputs.",
    P("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0, positional=True),
    _inplace(),
    prefix="lrelu",
)
_layer(
    "ELU",
    "Activation",
    "Smooth ReLU variant with negative saturation.",
    P("alpha", "float", 1.0, "Value the output approaches for very negative inputs.", min=0.0),
    _inplace(),
    prefix="elu",
)
_layer(
    "GELU",
    "Activation",
    "Gaussian error linear unit, common in transformers.",
    P("approximate", "choice", "none", "Use the faster tanh approximation.", choices=("none", "tanh")),
    prefix="gelu",
)
_layer("SiLU", "Activation", "x * sigmoid(x), also called Swish.", _inplace(), prefix="silu")
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
