"""What each traced call becomes: a catalog layer id and its parameters, read from the call's arguments
(``call_function`` / ``call_method``; ``call_module`` is ``core.fx_import.modules``).

Registries keyed by the torch class name, the function and the method name, so supporting one more operation is
one entry. A mapper returns ``Layer(type, params, inputs)`` where ``inputs`` are the traced values feeding it in
port order, or raises ``Unsupported`` with the reason in plain words. Auto parameters (``in_channels``,
``num_features``, ``in_features``) are left out: the analysis fills them from the incoming shape, which is what
lets one block definition serve every stage of a ResNet.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from core.fx_import.calls import Layer, Unsupported, arg, const, rank, size, tensor_arg
from core.fx_import.fold import BATCH
from core.fx_import.tensor_calls import arange, attention, index, interpolate, pad
from core.fx_import.trace import shape_of


# --- call_function / call_method: the call's arguments ---------------------------------------------------------------
def _activation(layer_id: str, **extra: tuple[int, str, Any]) -> Callable[[fx.Node], Layer]:
    """F.relu(x, inplace=...), torch.sigmoid(x), x.relu(): extra maps a parameter to (position, keyword, default)."""

    def make(node: fx.Node) -> Layer:
        params = {p: const(arg(node, i, kw, d), p) for p, (i, kw, d) in extra.items()}
        return Layer(layer_id, params, [tensor_arg(node)])

    return make


def _binary(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        values = [a for a in node.args[:2]]
        neutral = 0 if layer_id == "Add" else 1  # RepVGG's `dense + 1x1 + id_out` with id_out = 0: x + 0 is x
        tensors = [v for v in values if isinstance(v, fx.Node)]
        if len(values) == 2 and len(tensors) == 1 and any(type(v) in (int, float) and v == neutral for v in values):
            return Layer("", {}, tensors)
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if layer_id == "Multiply" and len(values) == 2 and len(tensors) == 1 and len(numbers) == 1:
            return Layer("Scale", {"factor": float(numbers[0])}, tensors)  # x * math.sqrt(d_model)
        if len(values) != 2 or not all(isinstance(v, fx.Node) for v in values) or node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("only the sum or product of two tensors of the network is a TorchCanvas merge")
        return Layer(layer_id, {"num_inputs": 2}, values)  # type: ignore[arg-type]

    return make


def _cat(node: fx.Node) -> Layer:
    values = arg(node, 0, "tensors", [])
    dim = const(arg(node, 1, "dim", 0), "dim")
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, fx.Node) for v in values) or not values:
        raise Unsupported("torch.cat of something else than a list of tensors of the network")
    if len(values) == 1:  # DenseNet's first layer: cat([x]) is x
        return Layer("", {}, [values[0]])
    if dim < 0:
        raise Unsupported("torch.cat over a negative dim: write the dimension as a positive number")
    return Layer("Concat", {"num_inputs": len(values), "dim": dim}, list(values))


def _flatten(node: fx.Node) -> Layer:
    start = const(arg(node, 1, "start_dim", 0), "start_dim")
    end = const(arg(node, 2, "end_dim", -1), "end_dim")
    if start == 0:
        raise Unsupported("flattening the batch dimension too (start_dim=0) is not supported: use start_dim=1")
    return Layer("Flatten", {"start_dim": start, "end_dim": end}, [tensor_arg(node)])


def _pool_fn(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        kernel = const(arg(node, 1, "kernel_size", None), "kernel_size")
        stride = const(arg(node, 2, "stride", None), "stride")
        padding = const(arg(node, 3, "padding", 0), "padding")
        ceil_index = 5 if layer_id.startswith("Max") else 4
        ceil = const(arg(node, ceil_index, "ceil_mode", False), "ceil_mode")
        if layer_id.startswith("Max") and size(arg(node, 4, "dilation", 1)) != 1:
            raise Unsupported("a max pooling with dilation is not a TorchCanvas layer")
        params = {"kernel_size": size(kernel), "stride": size(stride) if stride else None, "padding": size(padding)}
        params["ceil_mode"] = bool(ceil)
        return Layer(layer_id, params, [tensor_arg(node)])

    return make


def _adaptive_fn(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        return Layer(
            layer_id, {"output_size": size(const(arg(node, 1, "output_size", 1), "output_size"))}, [tensor_arg(node)]
        )

    return make


def _dropout(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        return Layer(layer_id, {"p": const(arg(node, 1, "p", 0.5), "p")}, [tensor_arg(node)])

    return make


def _mean(node: fx.Node) -> Layer:
    dim = const(arg(node, 1, "dim", None), "dim")
    keepdim = const(arg(node, 2, "keepdim", False), "keepdim")
    if isinstance(dim, (list, tuple)) and list(dim) in ([2, 3], [-2, -1]) and not keepdim:  # global average pool
        return Layer("AdaptiveAvgPool2d", {"output_size": 1}, [tensor_arg(node)], [("Flatten", {})])
    if isinstance(dim, (list, tuple)) and len(dim) == 1:
        dim = dim[0]
    if not isinstance(dim, int) or keepdim or dim < 1:
        raise Unsupported("only a mean over one positive dimension without keepdim is a TorchCanvas layer (Mean)")
    return Layer("Mean", {"dim": dim}, [tensor_arg(node)])


def _reshape(node: fx.Node) -> Layer:
    """x.view(x.size(0), -1) is a Flatten; x.view(N, a, b) / x.view(-1, a) a Reshape of one sample."""
    x = tensor_arg(node)
    dims = list(node.args[1:])
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    if not dims:
        raise Unsupported("a reshape without a shape")
    first, rest = dims[0], dims[1:]
    batch = first == -1 or first is BATCH or (isinstance(first, fx.Node) and is_batch_size(first, x))
    if not batch or any(isinstance(d, fx.Node) or d is BATCH for d in rest) or not rest:
        raise Unsupported("only x.view(x.size(0), ...) or x.view(-1, ...) with numbers for the other dimensions")
    if rest == [-1]:
        return Layer("Flatten", {"start_dim": 1, "end_dim": -1}, [x])
    return Layer("Reshape", {"shape": [int(d) for d in rest]}, [x])  # type: ignore[arg-type]


def _permutation(node: fx.Node, x: fx.Node, order: list[Any]) -> Layer:
    count = rank(x)
    dims = [int(const(d, "dims")) % count for d in order]
    if sorted(dims) != list(range(count)) or dims[0] != 0:
        raise Unsupported("only a reordering of the dimensions after the batch is a TorchCanvas layer (Permute)")
    return Layer("Permute", {"dims": dims[1:]}, [x])


def _transpose(node: fx.Node) -> Layer:
    """torch.transpose(x, 1, 2) / x.transpose(1, 2): a Permute that swaps two dimensions."""
    x = tensor_arg(node)
    a, b = (int(const(arg(node, i, name, None), name)) for i, name in ((1, "dim0"), (2, "dim1")))
    order: list[Any] = list(range(rank(x)))
    order[a], order[b] = order[b], order[a]
    return _permutation(node, x, order)


def _permute(node: fx.Node) -> Layer:
    """x.permute(0, 2, 1) / torch.permute(x, (0, 2, 1))."""
    x = tensor_arg(node)
    order: list[Any] = list(node.args[1:]) or list(node.kwargs.get("dims", []))  # type: ignore[arg-type]
    if len(order) == 1 and isinstance(order[0], (list, tuple)):
        order = list(order[0])
    return _permutation(node, x, order)


def _channel_shuffle(node: fx.Node) -> Layer:
    """F.channel_shuffle(x, groups), also what ``patterns`` makes of a channel shuffle written out."""
    return Layer("ChannelShuffle", {"groups": const(arg(node, 1, "groups", 1), "groups")}, [tensor_arg(node)])


def _is_chunk(node: fx.Node) -> bool:
    """x.chunk(n, dim), or x.split(size, dim) (nanoGPT's ``q, k, v = qkv.split(n_embd, dim=2)``)."""
    if node.op == "call_method":
        return node.target in ("chunk", "split")
    return node.op == "call_function" and node.target in (torch.chunk, torch.split)


def _chunks(call: fx.Node, x: fx.Node, dim: int) -> int:
    """How many pieces: chunk's count, or the dimension's size over split's piece size (equal pieces only: then
    both cut the same places; a split into unequal sizes is no Chunk)."""
    if (call.op == "call_method" and call.target == "chunk") or call.target is torch.chunk:
        return int(const(arg(call, 1, "chunks", None), "chunks"))
    piece = const(arg(call, 1, "split_size", arg(call, 1, "split_size_or_sections", None)), "split size")
    if isinstance(piece, (list, tuple)) and len(set(piece)) == 1:
        piece = piece[0]
    shape = shape_of(x)
    if not isinstance(piece, int) or shape is None or int(shape[dim]) % piece:
        raise Unsupported(
            f"x.split({piece}, dim={dim}) cuts {'?' if shape is None else shape[dim]} values into pieces of unequal "
            "size: only equal pieces are a TorchCanvas layer (Chunk)"
        )
    return int(shape[dim]) // piece


def chunk_calls(gm: fx.GraphModule) -> set[fx.Node]:
    """x.chunk(n, dim) whose pieces are only taken one by one (a, b = x.chunk(2, 1)): the call draws nothing;
    each piece is a Chunk layer (``chunk_piece``)."""
    return {
        node
        for node in gm.graph.nodes
        if _is_chunk(node)
        and node.users
        and all(
            u.op == "call_function" and u.target is operator.getitem and isinstance(u.args[1], int) for u in node.users
        )
    }


def chunk_piece(node: fx.Node) -> Layer:
    """``x.chunk(n, dim)[i]``: one piece, as a Chunk layer (the same call, so the same values for any size)."""
    call, index = node.args[0], int(node.args[1])  # type: ignore[arg-type]
    assert isinstance(call, fx.Node)
    x = tensor_arg(call)
    dim = int(const(arg(call, 2, "dim", 0), "dim"))
    if dim < 0:
        dim += rank(x)
    chunks = _chunks(call, x, dim)
    if dim == 0:
        raise Unsupported("cutting the batch dimension into pieces is not a TorchCanvas layer")
    if index < 0:
        raise Unsupported("a piece counted from the end: write its index from the front")
    return Layer("Chunk", {"chunks": chunks, "index": index, "dim": dim}, [x])


def is_batch_size(node: fx.Node, of: fx.Node) -> bool:
    """``x.size(0)`` / ``x.shape[0]`` of the tensor ``of`` (or of any tensor: the batch size is the same)."""
    if node.op == "call_method" and node.target == "size":
        return arg(node, 1, "dim", None) == 0
    if node.op == "call_function" and node.target is operator.getitem and node.args[1] == 0:
        base = node.args[0]
        return isinstance(base, fx.Node) and base.op == "call_function" and base.target is getattr
    return False


def _softmax(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        dim = const(arg(node, 1, "dim", None), "dim")
        if dim is None:
            raise Unsupported("a softmax without dim: write dim=1")
        return Layer(layer_id, {"dim": dim}, [tensor_arg(node)])

    return make


def _passthrough(node: fx.Node) -> Layer:
    return Layer("", {}, [tensor_arg(node)])  # "" = no layer: the value passes through unchanged


_RELU = {"inplace": (1, "inplace", False)}
FUNCTIONS: dict[Any, Callable[[fx.Node], Layer]] = {
    operator.add: _binary("Add"),
    operator.iadd: _binary("Add"),
    torch.add: _binary("Add"),
    operator.mul: _binary("Multiply"),
    torch.mul: _binary("Multiply"),
    torch.cat: _cat,
    torch.concat: _cat,
    torch.flatten: _flatten,
    torch.relu: _activation("ReLU"),
    F.relu: _activation("ReLU", **_RELU),
    F.relu6: _activation("ReLU6", **_RELU),
    F.hardswish: _activation("Hardswish", **_RELU),
    F.hardsigmoid: _activation("Hardsigmoid", **_RELU),
    F.silu: _activation("SiLU", **_RELU),
    F.mish: _activation("Mish", **_RELU),
    F.gelu: _activation("GELU"),
    F.elu: _activation("ELU"),
    F.leaky_relu: _activation("LeakyReLU", negative_slope=(1, "negative_slope", 0.01)),
    torch.sigmoid: _activation("Sigmoid"),
    F.sigmoid: _activation("Sigmoid"),
    torch.tanh: _activation("Tanh"),
    F.tanh: _activation("Tanh"),
    F.softplus: _activation("Softplus", beta=(1, "beta", 1.0), threshold=(2, "threshold", 20.0)),
    F.softmax: _softmax("Softmax"),
    torch.softmax: _softmax("Softmax"),
    F.log_softmax: _softmax("LogSoftmax"),
    torch.log_softmax: _softmax("LogSoftmax"),
    F.max_pool1d: _pool_fn("MaxPool1d"),
    F.max_pool2d: _pool_fn("MaxPool2d"),
    F.avg_pool1d: _pool_fn("AvgPool1d"),
    F.avg_pool2d: _pool_fn("AvgPool2d"),
    F.adaptive_avg_pool2d: _adaptive_fn("AdaptiveAvgPool2d"),
    F.adaptive_max_pool2d: _adaptive_fn("AdaptiveMaxPool2d"),
    F.dropout: _dropout("Dropout"),
    F.dropout2d: _dropout("Dropout2d"),
    torch.mean: _mean,
    torch.reshape: _reshape,
    torch.transpose: _transpose,
    F.channel_shuffle: _channel_shuffle,
    torch.permute: _permute,
    F.interpolate: interpolate,
    F.scaled_dot_product_attention: attention,
    torch.arange: arange,
    F.pad: pad,
    operator.getitem: index,
}

METHODS: dict[str, Callable[[fx.Node], Layer]] = {
    "relu": _activation("ReLU"),
    "sigmoid": _activation("Sigmoid"),
    "tanh": _activation("Tanh"),
    "softmax": _softmax("Softmax"),
    "log_softmax": _softmax("LogSoftmax"),
    "flatten": _flatten,
    "mean": _mean,
    "view": _reshape,
    "reshape": _reshape,
    "add": _binary("Add"),
    "mul": _binary("Multiply"),
    "contiguous": _passthrough,
    "transpose": _transpose,
    "permute": _permute,
}


def describe_target(node: fx.Node) -> str:
    """How the user wrote the call: ``torch.matmul``, ``F.interpolate``, ``x.permute``, ``+``."""
    if node.op == "call_method":
        return f"x.{node.target}"
    target = node.target
    names = {
        operator.add: "+",
        operator.iadd: "+=",
        operator.mul: "*",
        operator.getitem: "x[...]",
        operator.setitem: "x[...] = ...",
        operator.matmul: "@",
        getattr: "x.<attribute>",
    }
    if target in names:
        return names[target]
    module = getattr(target, "__module__", "") or ""
    name = getattr(target, "__name__", str(target))
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module.startswith("torch") or module == "":
        return f"torch.{name}"
    return f"{module}.{name}"


def map_call(node: fx.Node) -> Layer:
    """The layer for a ``call_function`` / ``call_method`` node, or Unsupported."""
    if node.op == "call_method":
        name = str(node.target)
        if name.endswith("_") and not name.endswith("__"):
            raise Unsupported(f"`x.{name}` changes a tensor in place; write `x = x.{name[:-1]}(...)` instead")
        mapper = METHODS.get(name)
    else:
        if node.target is operator.setitem:
            raise Unsupported("assigning into a tensor (x[...] = ...) changes it in place; TorchCanvas cannot draw it")
        mapper = FUNCTIONS.get(node.target)
        base = node.args[0] if node.args else None
        if node.target is operator.getitem and isinstance(base, fx.Node) and _is_chunk(base):
            mapper = chunk_piece
    if mapper is None:
        raise Unsupported(f"`{describe_target(node)}`")
    return mapper(node)
