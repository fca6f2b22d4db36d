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
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from core.fx_import.fold import BATCH
from core.fx_import.trace import shape_of


class Unsupported(Exception):
    """This call has no TorchCanvas layer; the message says why (no traceback is shown)."""


@dataclass
class Layer:
    type: str
    params: dict[str, Any]
    inputs: list[fx.Node] = field(default_factory=list)
    then: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # layers that follow in a chain


def size(value: Any) -> Any:
    """A torch size tuple as the catalog wants it: one number when all are equal, else a list."""
    if isinstance(value, (tuple, list)):
        items = [int(v) for v in value]
        return items[0] if len(set(items)) == 1 else items
    return value


# --- call_function / call_method: the call's arguments ---------------------------------------------------------------
def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _tensor_arg(node: fx.Node, index: int = 0) -> fx.Node:
    value = _arg(node, index, "input", None)
    if not isinstance(value, fx.Node):
        raise Unsupported("its input is not a tensor from the network")
    return value


def _const(value: Any, what: str) -> Any:
    if isinstance(value, fx.Node):
        raise Unsupported(f"its {what} is computed from the data; write it as a number")
    if value is BATCH:
        raise Unsupported(f"its {what} is the batch size, which changes from batch to batch; write it as a number")
    return value


def _activation(layer_id: str, **extra: tuple[int, str, Any]) -> Callable[[fx.Node], Layer]:
    """F.relu(x, inplace=...), torch.sigmoid(x), x.relu(): extra maps a parameter to (position, keyword, default)."""

    def make(node: fx.Node) -> Layer:
        params = {p: _const(_arg(node, i, kw, d), p) for p, (i, kw, d) in extra.items()}
        return Layer(layer_id, params, [_tensor_arg(node)])

    return make


def _binary(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        values = [a for a in node.args[:2]]
        if len(values) != 2 or not all(isinstance(v, fx.Node) for v in values) or node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("only the sum or product of two tensors of the network is a TorchCanvas merge")
        return Layer(layer_id, {"num_inputs": 2}, values)  # type: ignore[arg-type]

    return make


def _cat(node: fx.Node) -> Layer:
    values = _arg(node, 0, "tensors", [])
    dim = _const(_arg(node, 1, "dim", 0), "dim")
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, fx.Node) for v in values) or not values:
        raise Unsupported("torch.cat of something else than a list of tensors of the network")
    if len(values) == 1:  # DenseNet's first layer: cat([x]) is x
        return Layer("", {}, [values[0]])
    if dim < 0:
        raise Unsupported("torch.cat over a negative dim: write the dimension as a positive number")
    return Layer("Concat", {"num_inputs": len(values), "dim": dim}, list(values))


def _flatten(node: fx.Node) -> Layer:
    start = _const(_arg(node, 1, "start_dim", 0), "start_dim")
    end = _const(_arg(node, 2, "end_dim", -1), "end_dim")
    if start == 0:
        raise Unsupported("flattening the batch dimension too (start_dim=0) is not supported: use start_dim=1")
    return Layer("Flatten", {"start_dim": start, "end_dim": end}, [_tensor_arg(node)])


def _pool_fn(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        kernel = _const(_arg(node, 1, "kernel_size", None), "kernel_size")
        stride = _const(_arg(node, 2, "stride", None), "stride")
        padding = _const(_arg(node, 3, "padding", 0), "padding")
        ceil_index = 5 if layer_id.startswith("Max") else 4
        ceil = _const(_arg(node, ceil_index, "ceil_mode", False), "ceil_mode")
        if layer_id.startswith("Max") and size(_arg(node, 4, "dilation", 1)) != 1:
            raise Unsupported("a max pooling with dilation is not a TorchCanvas layer")
        params = {"kernel_size": size(kernel), "stride": size(stride) if stride else None, "padding": size(padding)}
        params["ceil_mode"] = bool(ceil)
        return Layer(layer_id, params, [_tensor_arg(node)])

    return make


def _adaptive_fn(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        return Layer(
            layer_id, {"output_size": size(_const(_arg(node, 1, "output_size", 1), "output_size"))}, [_tensor_arg(node)]
        )

    return make


def _dropout(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        return Layer(layer_id, {"p": _const(_arg(node, 1, "p", 0.5), "p")}, [_tensor_arg(node)])

    return make


def _mean(node: fx.Node) -> Layer:
    dim = _const(_arg(node, 1, "dim", None), "dim")
    keepdim = _const(_arg(node, 2, "keepdim", False), "keepdim")
    if isinstance(dim, (list, tuple)) and list(dim) in ([2, 3], [-2, -1]) and not keepdim:  # global average pool
        return Layer("AdaptiveAvgPool2d", {"output_size": 1}, [_tensor_arg(node)], [("Flatten", {})])
    if isinstance(dim, (list, tuple)) and len(dim) == 1:
        dim = dim[0]
    if not isinstance(dim, int) or keepdim or dim < 1:
        raise Unsupported("only a mean over one positive dimension without keepdim is a TorchCanvas layer (Mean)")
    return Layer("Mean", {"dim": dim}, [_tensor_arg(node)])


def _reshape(node: fx.Node) -> Layer:
    """x.view(x.size(0), -1) is a Flatten; x.view(N, a, b) / x.view(-1, a) a Reshape of one sample."""
    x = _tensor_arg(node)
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


def _rank(x: fx.Node) -> int:
    shape = shape_of(x)
    if shape is None:
        raise Unsupported("the shape of its input is unknown")
    return len(shape)


def _permutation(node: fx.Node, x: fx.Node, order: list[Any]) -> Layer:
    rank = _rank(x)
    dims = [int(_const(d, "dims")) % rank for d in order]
    if sorted(dims) != list(range(rank)) or dims[0] != 0:
        raise Unsupported("only a reordering of the dimensions after the batch is a TorchCanvas layer (Permute)")
    return Layer("Permute", {"dims": dims[1:]}, [x])


def _transpose(node: fx.Node) -> Layer:
    """torch.transpose(x, 1, 2) / x.transpose(1, 2): a Permute that swaps two dimensions."""
    x = _tensor_arg(node)
    a, b = (int(_const(_arg(node, i, name, None), name)) for i, name in ((1, "dim0"), (2, "dim1")))
    order: list[Any] = list(range(_rank(x)))
    order[a], order[b] = order[b], order[a]
    return _permutation(node, x, order)


def _permute(node: fx.Node) -> Layer:
    """x.permute(0, 2, 1) / torch.permute(x, (0, 2, 1))."""
    x = _tensor_arg(node)
    order: list[Any] = list(node.args[1:]) or list(node.kwargs.get("dims", []))  # type: ignore[arg-type]
    if len(order) == 1 and isinstance(order[0], (list, tuple)):
        order = list(order[0])
    return _permutation(node, x, order)


def _channel_shuffle(node: fx.Node) -> Layer:
    """F.channel_shuffle(x, groups), also what ``patterns`` makes of a channel shuffle written out."""
    return Layer("ChannelShuffle", {"groups": _const(_arg(node, 1, "groups", 1), "groups")}, [_tensor_arg(node)])


def _is_chunk(node: fx.Node) -> bool:
    if node.op == "call_method":
        return node.target == "chunk"
    return node.op == "call_function" and node.target is torch.chunk


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
    x = _tensor_arg(call)
    chunks = int(_const(_arg(call, 1, "chunks", None), "chunks"))
    dim = int(_const(_arg(call, 2, "dim", 0), "dim"))
    if dim < 0:
        dim += _rank(x)
    if dim == 0:
        raise Unsupported("cutting the batch dimension into pieces is not a TorchCanvas layer")
    if index < 0:
        raise Unsupported("a piece counted from the end: write its index from the front")
    return Layer("Chunk", {"chunks": chunks, "index": index, "dim": dim}, [x])


def is_batch_size(node: fx.Node, of: fx.Node) -> bool:
    """``x.size(0)`` / ``x.shape[0]`` of the tensor ``of`` (or of any tensor: the batch size is the same)."""
    if node.op == "call_method" and node.target == "size":
        return _arg(node, 1, "dim", None) == 0
    if node.op == "call_function" and node.target is operator.getitem and node.args[1] == 0:
        base = node.args[0]
        return isinstance(base, fx.Node) and base.op == "call_function" and base.target is getattr
    return False


def _softmax(layer_id: str) -> Callable[[fx.Node], Layer]:
    def make(node: fx.Node) -> Layer:
        dim = _const(_arg(node, 1, "dim", None), "dim")
        if dim is None:
            raise Unsupported("a softmax without dim: write dim=1")
        return Layer(layer_id, {"dim": dim}, [_tensor_arg(node)])

    return make


def _interpolate(node: fx.Node) -> Layer:
    """F.interpolate(x, scale_factor=2, mode="nearest"): the Upsample layer."""
    from core.model.kinds.conv import upsample_params
    from core.model.kinds.kind import NotImportable

    names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
    defaults = (None, None, "nearest", None, None)
    values = [_const(_arg(node, i + 1, n, d), n) for i, (n, d) in enumerate(zip(names, defaults, strict=True))]
    if _arg(node, 6, "antialias", False):
        raise Unsupported("F.interpolate with antialias=True is not a TorchCanvas layer")
    try:
        return Layer("Upsample", upsample_params(*values), [_tensor_arg(node)])
    except NotImportable as exc:
        raise Unsupported(str(exc)) from None


def _pad(node: fx.Node) -> Layer:
    """F.pad(x, (l, r, t, b), "constant", 0): the Pad layer; "reflect" / "replicate" of images: their layers."""
    pads = [int(_const(p, "padding")) for p in _const(_arg(node, 1, "pad", []), "padding")]
    mode = _const(_arg(node, 2, "mode", "constant"), "mode")
    value = _const(_arg(node, 3, "value", None), "value")
    if mode == "constant":
        return Layer("Pad", {"padding": pads, "value": float(value or 0.0)}, [_tensor_arg(node)])
    layer = {"reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d"}.get(mode)
    if layer is None or len(pads) != 4 or _rank(_tensor_arg(node)) != 4:
        raise Unsupported(f'F.pad with mode "{mode}" is only a TorchCanvas layer for images and 4 numbers')
    return Layer(layer, {"padding": size(pads)}, [_tensor_arg(node)])


def _index(node: fx.Node) -> Layer:
    """x[:, 0] (a token: Take token), x[:, :, a:b, ::s] (one Slice per cut dimension), and ``out, _ = attn(...)``:
    the first of a layer's two outputs (its output in the drawing)."""
    x, index = node.args[0], node.args[1]
    if not isinstance(x, fx.Node):
        raise Unsupported("indexing something else than a tensor of the network")
    meta = x.meta.get("tensor_meta")
    if isinstance(meta, (tuple, list)) and not hasattr(meta, "shape"):  # (output, state) or (output, weights)
        if index != 0 and node.users:  # ``out, _ = attn(...)`` also makes the unused ``_``
            raise Unsupported("only the first output of a layer that gives two (output, state) is used in a drawing")
        return Layer("", {}, [x])
    rank = _rank(x)
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (rank - len(items) + 1)
    steps: list[tuple[str, dict[str, Any]]] = []
    gone = 0  # dimensions an integer index removed: the later ones move forward
    for dim, item in enumerate(items):
        if isinstance(item, slice) and item == slice(None):
            continue
        if dim == 0:
            raise Unsupported("indexing the batch dimension (x[0], x[1:]) is not a TorchCanvas layer")
        if isinstance(item, int) and not isinstance(item, bool) and dim == 1 and rank >= 3:
            steps.append(("TakeToken", {"index": item}))
            gone += 1
            continue
        if not isinstance(item, slice):
            raise Unsupported(
                f"`x[{_index_text(items)}]`: only slices (x[:, :, 2:30]) and one token (x[:, 0]) are TorchCanvas layers"
            )
        bounds = [_const(v, "slice") for v in (item.start, item.stop, item.step)]
        if any(v is not None and (not isinstance(v, int) or isinstance(v, bool)) for v in bounds):
            raise Unsupported("a slice whose bounds are not whole numbers")
        start, end, step = bounds
        steps.append(("Slice", {"dim": dim - gone, "start": start or 0, "end": end, "step": step or 1}))
    if not steps:
        return Layer("", {}, [x])
    (first, params), *then = steps
    return Layer(first, params, [x], then)


def _index_text(items: list[Any]) -> str:
    def one(item: Any) -> str:
        if isinstance(item, slice):
            parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        return "..." if item is Ellipsis else str(item)

    return ", ".join(one(i) for i in items)


def _passthrough(node: fx.Node) -> Layer:
    return Layer("", {}, [_tensor_arg(node)])  # "" = no layer: the value passes through unchanged


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
    F.interpolate: _interpolate,
    F.pad: _pad,
    operator.getitem: _index,
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
