"""Each TorchCanvas layer's Keras 3 counterpart: one registry entry per layer id.

An entry turns a node's effective parameters and shapes into the Keras layer(s) that compute the same function,
with a comment where the two libraries differ (a layout, a default, a bias). Images stay channels-first
([N, C, H, W], as PyTorch and our data loaders give them): every image layer gets ``data_format="channels_first"``,
which the torch backend runs natively, so ``Flatten`` orders features as ``nn.Flatten`` does and the Dense
layer after it sees the same inputs. A layer id missing here, or a parameter value Keras cannot express, makes
the whole export fail with one message naming every such layer (``core.code.keras_code``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.code.codegen import literal
from core.model.analysis import NodeInfo

CF = 'data_format="channels_first"'


class NoEquivalent(Exception):
    """This node's parameters have no Keras equivalent; the message says which and why."""


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer call: ``head(args, name=...)``; ``suffix`` names the helper layers a node needs."""

    head: str
    args: tuple[str, ...] = ()
    note: str = ""  # a comment where Keras differs from PyTorch
    suffix: str = ""  # appended to the node's name: conv1_pad, lstm_2
    fewer_params: int = 0  # trainable parameters Keras has fewer than PyTorch (an LSTM's second bias)


Mapper = Callable[[NodeInfo], list[KerasLayer]]
KERAS_LAYERS: dict[str, Mapper] = {}


def keras_layer(*ids: str) -> Callable[[Mapper], Mapper]:
    def register(mapper: Mapper) -> Mapper:
        for layer_id in ids:
            KERAS_LAYERS[layer_id] = mapper
        return mapper

    return register


def _rank(info: NodeInfo) -> int:
    """Dimensions of the first input, batch included (4 for images)."""
    shape = info.in_shapes[0] if info.in_shapes else None
    return len(shape) if shape else 0


def _pair(value: Any) -> str:
    return literal(value) if isinstance(value, (list, tuple)) else literal(int(value))


def _uniform(value: Any) -> int | None:
    """The one number of a size parameter (3 or [3, 3]), or None when its items differ."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    return int(items[0]) if len(set(items)) == 1 else None


def _bias(p: dict[str, Any], key: str = "bias") -> list[str]:
    return [] if p.get(key, True) else ["use_bias=False"]


@keras_layer("Linear")
def _linear(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    return [KerasLayer("layers.Dense", (literal(p["out_features"]), *_bias(p)))]


@keras_layer("Embedding")
def _embedding(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    if p.get("padding_idx") is not None:
        raise NoEquivalent("padding_idx (a row kept at zero) has no Keras equivalent; clear it")
    return [KerasLayer("layers.Embedding", (literal(p["num_embeddings"]), literal(p["embedding_dim"])))]


def _padding(p: dict[str, Any], dims: int, kernel: Any) -> tuple[str, list[KerasLayer]]:
    """Keras pads "valid" or "same": PyTorch's numeric padding becomes "same" where that is what it is
    (stride 1, odd kernel, padding = dilation * (kernel - 1) / 2) and otherwise a ZeroPadding layer first."""
    if p.get("padding") in ("same", "valid"):
        return str(p["padding"]), []
    pad, k, stride, dil = (
        _uniform(p.get(n, d)) for n, d in (("padding", 0), ("kernel_size", kernel), ("stride", 1), ("dilation", 1))
    )
    if pad == 0:
        return "valid", []
    if pad is not None and k is not None and dil is not None and stride == 1 and k % 2 and pad == dil * (k - 1) // 2:
        return "same", []
    if dims == 1:  # ZeroPadding1D pads the second axis, which is the channels in [N, C, L]
        raise NoEquivalent("Keras pads a channels-first sequence only as 'same' (stride 1, odd kernel)")
    return "valid", [KerasLayer("layers.ZeroPadding2D", (_pair(p["padding"]), CF), suffix="_pad")]


def _conv(dims: int) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        p = info.params
        padding, before = _padding(p, dims, 3)
        args = [literal(p["out_channels"]), _pair(p["kernel_size"])]
        if _uniform(p.get("stride", 1)) != 1:
            args.append(f"strides={_pair(p['stride'])}")
        args.append(f'padding="{padding}"')
        if _uniform(p.get("dilation", 1)) != 1:
            args.append(f"dilation_rate={_pair(p['dilation'])}")
        if p.get("groups", 1) != 1:
            args.append(f"groups={literal(p['groups'])}")
        args += [*_bias(p), CF]
        return [*before, KerasLayer(f"layers.Conv{dims}D", tuple(args))]

    return mapper


keras_layer("Conv1d")(_conv(1))
keras_layer("Conv2d")(_conv(2))


@keras_layer("ConvTranspose2d")
def _conv_transpose(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    if p.get("groups", 1) != 1:
        raise NoEquivalent("groups > 1 has no Keras Conv2DTranspose equivalent")
    args = [literal(p["out_channels"]), _pair(p["kernel_size"]), f"strides={_pair(p.get('stride', 1))}"]
    args.append('padding="valid"')
    if _uniform(p.get("output_padding", 0)) != 0:
        args.append(f"output_padding={_pair(p['output_padding'])}")
    if _uniform(p.get("dilation", 1)) != 1:
        args.append(f"dilation_rate={_pair(p['dilation'])}")
    layers = [KerasLayer("layers.Conv2DTranspose", (*args, *_bias(p), CF))]
    if _uniform(p.get("padding", 0)) != 0:  # PyTorch's padding crops the output
        note = "PyTorch's padding crops the output"
        layers.append(KerasLayer("layers.Cropping2D", (_pair(p["padding"]), CF), note, suffix="_crop"))
    return layers


@keras_layer("Upsample")
def _upsample(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    scale = float(p.get("scale_factor", 2.0))
    if not scale.is_integer():
        raise NoEquivalent(f"scale_factor {scale} is not a whole number (Keras upsamples by whole factors)")
    if _rank(info) == 4:
        mode = f'interpolation="{p.get("mode", "nearest")}"'
        return [KerasLayer("layers.UpSampling2D", (str(int(scale)), mode, CF))]
    if p.get("mode", "nearest") != "nearest":
        raise NoEquivalent("Keras upsamples sequences with 'nearest' only")
    return [
        KerasLayer("layers.Permute", ("(2, 1)",), "to channels-last", suffix="_to_last"),
        KerasLayer("layers.UpSampling1D", (str(int(scale)),)),
        KerasLayer("layers.Permute", ("(2, 1)",), "back to channels-first", suffix="_to_first"),
    ]


def _pool(kind: str, dims: int) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        p = info.params
        if _uniform(p.get("padding", 0)) != 0:
            raise NoEquivalent("padding > 0 in pooling has no Keras equivalent; pad with a layer before it")
        args = [_pair(p["kernel_size"])]
        if p.get("stride") is not None:
            args.append(f"strides={_pair(p['stride'])}")
        return [KerasLayer(f"layers.{kind}Pooling{dims}D", (*args, CF))]

    return mapper


keras_layer("MaxPool1d")(_pool("Max", 1))
keras_layer("MaxPool2d")(_pool("Max", 2))
keras_layer("AvgPool1d")(_pool("Average", 1))
keras_layer("AvgPool2d")(_pool("Average", 2))


def _adaptive(kind: str) -> Mapper:
    def mapper(info: NodeInfo) -> list[KerasLayer]:
        if _uniform(info.params.get("output_size", 1)) != 1:
            raise NoEquivalent("only output_size 1 (global pooling) has a Keras equivalent here")
        return [KerasLayer(f"layers.Global{kind}Pooling2D", (CF, "keepdims=True"), "keeps [N, C, 1, 1] as PyTorch")]

    return mapper


keras_layer("AdaptiveAvgPool2d")(_adaptive("Average"))
keras_layer("AdaptiveMaxPool2d")(_adaptive("Max"))


def _affine(flag: Any) -> list[str]:
    return [] if flag else ["center=False", "scale=False"]


@keras_layer("BatchNorm1d", "BatchNorm2d")
def _batch_norm(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    momentum = 1.0 - float(p.get("momentum", 0.1))
    args = ["axis=1", f"epsilon={literal(float(p.get('eps', 1e-5)))}", f"momentum={literal(round(momentum, 6))}"]
    note = "Keras momentum = 1 - PyTorch momentum; running stats are non-trainable weights"
    return [KerasLayer("layers.BatchNormalization", (*args, *_affine(p.get("affine", True))), note)]


@keras_layer("LayerNorm")
def _layer_norm(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    args = ["axis=-1", f"epsilon={literal(float(p.get('eps', 1e-5)))}", *_affine(p.get("elementwise_affine", True))]
    return [KerasLayer("layers.LayerNormalization", tuple(args))]


@keras_layer("GroupNorm")
def _group_norm(info: NodeInfo) -> list[KerasLayer]:
    p = info.params
    args = [f"groups={literal(p['num_groups'])}", "axis=1", f"epsilon={literal(float(p.get('eps', 1e-5)))}"]
    return [KerasLayer("layers.GroupNormalization", (*args, *_affine(p.get("affine", True))))]


@keras_layer("Dropout")
def _dropout(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Dropout", (literal(float(info.params.get("p", 0.5))),))]


@keras_layer("Dropout2d")
def _dropout2d(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.SpatialDropout2D", (literal(float(info.params.get("p", 0.5))), CF))]


def _simple(head: str, *args: str) -> Mapper:
    return lambda info: [KerasLayer(head, args)]


keras_layer("ReLU")(_simple("layers.ReLU"))
keras_layer("SiLU")(_simple("layers.Activation", '"silu"'))
keras_layer("Softplus")(_simple("layers.Activation", '"softplus"'))
keras_layer("Sigmoid")(_simple("layers.Activation", '"sigmoid"'))
keras_layer("Tanh")(_simple("layers.Activation", '"tanh"'))
keras_layer("Identity")(_simple("layers.Identity"))


@keras_layer("LeakyReLU")
def _leaky(info: NodeInfo) -> list[KerasLayer]:
    slope = literal(float(info.params.get("negative_slope", 0.01)))
    return [KerasLayer("layers.LeakyReLU", (f"negative_slope={slope}",), "Keras' default slope is 0.3")]


@keras_layer("ELU")
def _elu(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.ELU", (f"alpha={literal(float(info.params.get('alpha', 1.0)))}",))]


@keras_layer("GELU")
def _gelu(info: NodeInfo) -> list[KerasLayer]:
    if info.params.get("approximate", "none") != "none":
        raise NoEquivalent("the tanh approximation needs a custom activation in Keras; use approximate='none'")
    return [KerasLayer("layers.Activation", ('"gelu"',), "Keras' gelu is exact, as approximate='none'")]


def _axis(info: NodeInfo) -> int:
    dim = int(info.params.get("dim", 1))
    return dim if dim >= 0 else dim + _rank(info)


@keras_layer("Softmax")
def _softmax(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Softmax", (f"axis={_axis(info)}",))]


@keras_layer("LogSoftmax")
def _log_softmax(info: NodeInfo) -> list[KerasLayer]:
    if _axis(info) != _rank(info) - 1:
        raise NoEquivalent("Keras' log_softmax activation works on the last dimension only; set dim to -1")
    return [KerasLayer("layers.Activation", ('"log_softmax"',))]


def _reshape(info: NodeInfo) -> list[KerasLayer]:
    if info.out_shape is None:  # pragma: no cover - codegen refuses graphs with unknown shapes first
        raise NoEquivalent("its output shape is unknown")
    return [KerasLayer("layers.Reshape", (literal(list(info.out_shape[1:])),), "same element order as PyTorch")]


@keras_layer("Flatten")
def _flatten(info: NodeInfo) -> list[KerasLayer]:
    if info.out_shape is not None and len(info.out_shape) == 2:
        return [KerasLayer("layers.Flatten", (), "channels-first order, as nn.Flatten")]
    return _reshape(info)


keras_layer("Unflatten", "Reshape")(_reshape)


@keras_layer("Permute")
def _permute(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Permute", (literal(list(info.params["dims"])),), "dims counted after the batch")]


RNN_CLASSES = {"LSTM": ("layers.LSTM", 4), "GRU": ("layers.GRU", 0), "RNN": ("layers.SimpleRNN", 1)}


def recurrent_layers(p: dict[str, Any], kind: str) -> list[KerasLayer]:
    """One Keras layer per stacked PyTorch layer (Dropout between them, as PyTorch's ``dropout``).
    PyTorch's LSTM and RNN cells have two bias vectors (input and hidden), Keras' one; GRU's
    ``reset_after=True`` (Keras' default) matches PyTorch's two exactly."""
    head, extra_bias = RNN_CLASSES[kind]
    hidden, count = int(p["hidden_size"]), int(p.get("num_layers", 1))
    directions = 2 if p.get("bidirectional") else 1
    fewer = extra_bias * hidden * directions if p.get("bias", True) else 0
    note = f"one bias vector in Keras, two in PyTorch: {fewer} fewer parameters" if fewer else ""
    out: list[KerasLayer] = []
    for i in range(count):
        last = i == count - 1
        sequences = not last or p.get("return_sequences") == "sequence"
        args = [literal(hidden), *(["return_sequences=True"] if sequences else []), *_bias(p)]
        if kind == "RNN":
            args.insert(1, f'activation="{p.get("nonlinearity", "tanh")}"')
        suffix = f"_{i + 1}" if count > 1 else ""
        if directions == 2:
            inner = f"{head}({', '.join(args)})"
            bi_note = "the backward half's 'last' output has read the whole sequence (PyTorch: only the last step)"
            layer = KerasLayer(
                "layers.Bidirectional", (inner,), "; ".join(n for n in (note, bi_note) if n), suffix, fewer
            )
        else:
            layer = KerasLayer(head, tuple(args), note, suffix, fewer)
        out.append(layer)
        if not last and float(p.get("dropout", 0.0)):
            out.append(KerasLayer("layers.Dropout", (literal(float(p["dropout"])),), suffix=f"_drop{i + 1}"))
    return out


def _recurrent(kind: str) -> Mapper:
    return lambda info: recurrent_layers(info.params, kind)


for _kind in RNN_CLASSES:
    keras_layer(_kind)(_recurrent(_kind))

keras_layer("Add")(_simple("layers.Add"))
keras_layer("Multiply")(_simple("layers.Multiply"))


@keras_layer("Concat")
def _concat(info: NodeInfo) -> list[KerasLayer]:
    return [KerasLayer("layers.Concatenate", (f"axis={_axis(info)}",))]
