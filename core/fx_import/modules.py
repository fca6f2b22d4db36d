"""What a ``call_module`` node becomes: the catalog layer of the module's class, its parameters read from the
module's attributes (``Conv2d.stride`` -> ``stride``). One entry per torch class in ``MODULES``; the auto
parameters (``in_channels``, ``num_features``, ``in_features``) are left to the analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import fx, nn

from core.fx_import.ops import Layer, Unsupported, size
from core.model.catalog import LAYERS


def _conv(m: Any) -> dict[str, Any]:
    params = {
        "out_channels": m.out_channels,
        "kernel_size": size(m.kernel_size),
        "stride": size(m.stride),
        "padding": m.padding if isinstance(m.padding, str) else size(m.padding),
        "dilation": size(m.dilation),
        "groups": m.groups,
        "bias": m.bias is not None,
    }
    if hasattr(m, "output_padding") and isinstance(m, nn.ConvTranspose2d):
        params["output_padding"] = size(m.output_padding)
    else:
        params["padding_mode"] = m.padding_mode
    return params


def _pool(m: Any) -> dict[str, Any]:
    params = {"kernel_size": size(m.kernel_size), "stride": size(m.stride), "padding": size(m.padding)}
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)) and size(m.dilation) != 1:
        raise Unsupported("a max pooling with dilation is not a TorchCanvas layer")
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d)) and (not m.count_include_pad or m.divisor_override):
        raise Unsupported("an average pooling with count_include_pad=False or a divisor_override is not supported")
    params["ceil_mode"] = bool(m.ceil_mode)
    return params


def _norm(m: Any) -> dict[str, Any]:
    momentum = 0.1 if m.momentum is None else m.momentum
    return {"eps": m.eps, "momentum": momentum, "affine": m.affine, "track_running_stats": m.track_running_stats}


def _layer_norm(m: Any) -> dict[str, Any]:
    if len(m.normalized_shape) != 1:
        raise Unsupported("a LayerNorm over more than the last dimension is not supported")
    return {"eps": m.eps, "elementwise_affine": m.elementwise_affine}


def _adaptive(m: Any) -> dict[str, Any]:
    if m.output_size is None or (isinstance(m.output_size, (tuple, list)) and None in m.output_size):
        raise Unsupported("an adaptive pooling that keeps a dimension (None) is not supported")
    return {"output_size": size(m.output_size)}


def _inplace(m: Any) -> dict[str, Any]:
    return {"inplace": bool(getattr(m, "inplace", False))}


MODULES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "Linear": lambda m: {"out_features": m.out_features, "bias": m.bias is not None},
    "Conv1d": _conv,
    "Conv2d": _conv,
    "Conv3d": _conv,
    "ConvTranspose2d": _conv,
    "MaxPool1d": _pool,
    "MaxPool2d": _pool,
    "MaxPool3d": _pool,
    "AvgPool1d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive,
    "AdaptiveMaxPool2d": _adaptive,
    "BatchNorm1d": _norm,
    "BatchNorm2d": _norm,
    "BatchNorm3d": _norm,
    "InstanceNorm1d": _norm,
    "InstanceNorm2d": _norm,
    "LayerNorm": _layer_norm,
    "GroupNorm": lambda m: {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine},
    "Dropout": lambda m: {"p": m.p, "inplace": m.inplace},
    "Dropout1d": lambda m: {"p": m.p, "inplace": m.inplace},
    "Dropout2d": lambda m: {"p": m.p, "inplace": m.inplace},
    "Flatten": lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim},
    "Identity": lambda m: {},
    "ZeroPad2d": lambda m: {"padding": size(m.padding)},
    "PixelShuffle": lambda m: {"upscale_factor": m.upscale_factor},
    "ReLU": _inplace,
    "ReLU6": _inplace,
    "Hardswish": _inplace,
    "Hardsigmoid": _inplace,
    "SiLU": _inplace,
    "Mish": _inplace,
    "SELU": _inplace,
    "ELU": lambda m: {"alpha": m.alpha, "inplace": m.inplace},
    "LeakyReLU": lambda m: {"negative_slope": m.negative_slope, "inplace": m.inplace},
    "Hardtanh": lambda m: {"min_val": m.min_val, "max_val": m.max_val, "inplace": m.inplace},
    "GELU": lambda m: {"approximate": m.approximate},
    "PReLU": lambda m: {"num_parameters": m.num_parameters},
    "Sigmoid": lambda m: {},
    "Tanh": lambda m: {},
    "Softplus": lambda m: {},
    "Softmax": lambda m: {"dim": m.dim},
    "LogSoftmax": lambda m: {"dim": m.dim},
    "Embedding": lambda m: {
        "num_embeddings": m.num_embeddings,
        "embedding_dim": m.embedding_dim,
        **({"padding_idx": m.padding_idx} if m.padding_idx is not None else {}),
    },
}


def catalog_module_types() -> dict[type, str]:
    """torch classes that map to a catalog entry: these stay whole when tracing."""
    found: dict[type, str] = {}
    for layer_id, spec in LAYERS.items():
        cls_name = (spec.torch_class or "").removeprefix("nn.")
        cls = getattr(nn, cls_name, None)
        if spec.torch_class and spec.torch_class.startswith("nn.") and isinstance(cls, type) and layer_id in MODULES:
            found[cls] = layer_id
    return found


def supported_names() -> str:
    return ", ".join(sorted(t.__name__ for t in catalog_module_types()))


def from_module(module: nn.Module, node: fx.Node) -> Layer:
    layer_id = catalog_module_types().get(type(module))
    if layer_id is None:
        raise Unsupported(f"not a TorchCanvas layer; supported: {supported_names()}")
    value = node.args[0] if node.args else None
    if not isinstance(value, fx.Node):
        raise Unsupported("its input is not a tensor from the network")
    return Layer(layer_id, MODULES[layer_id](module), [value])
