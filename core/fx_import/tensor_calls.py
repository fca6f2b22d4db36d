"""Tensor code as layers: ``x[:, 0]``, ``x[:, :, 2:30:2]`` and ``x[:, [-1], :]`` (Take token, Slice), ``F.pad``
(Pad, or reflection and replication padding of images), ``F.interpolate`` (Upsample), the first of a layer's two
outputs (``out, _ = attn(x, x, x)``), ``F.scaled_dot_product_attention`` and ``torch.arange(t)`` over the steps of
a sequence (Positions, for a table of position vectors)."""

from __future__ import annotations

from typing import Any

from torch import fx, nn

from core.fx_import.calls import Layer, Unsupported, arg, const, rank, size, tensor_arg
from core.fx_import.trace import shape_of
from core.fx_import.training_values import training_value, unread_note
from core.model.kinds.conv import upsample_params
from core.model.kinds.kind import NotImportable


def interpolate(node: fx.Node) -> Layer:
    """F.interpolate(x, scale_factor=2, mode="nearest"): the Upsample layer."""
    names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
    defaults = (None, None, "nearest", None, None)
    values = [const(arg(node, i + 1, n, d), n) for i, (n, d) in enumerate(zip(names, defaults, strict=True))]
    if arg(node, 6, "antialias", False):
        raise Unsupported("F.interpolate with antialias=True is not a TorchCanvas layer")
    if values[0] is not None and values[1] is None:  # a size (segmentation: the input's) a whole scale away
        values[:2] = [None, _scale_for(tensor_arg(node), values[0])]
    try:
        return Layer("Upsample", upsample_params(*values), [tensor_arg(node)])
    except NotImportable as exc:  # said after "it uses": the call, then its one cause in brackets
        raise Unsupported(f"F.interpolate ({exc})") from None


def _scale_for(x: fx.Node, size: Any) -> Any:
    """The one whole scale that takes ``x`` to ``size`` (then both compute the same values), else the size."""
    shape = shape_of(x)
    sizes = [int(size)] * (len(shape) - 2) if shape and isinstance(size, int) else list(size)
    if not shape or len(sizes) != len(shape) - 2:
        return None
    scales = {s / int(d) for s, d in zip(sizes, shape[2:], strict=True)}
    if len(scales) != 1 or not next(iter(scales)).is_integer():
        raise Unsupported(f"F.interpolate to size {sizes} from {list(shape[2:])}: only a whole scale is a layer")
    return float(scales.pop())


def pad(node: fx.Node) -> Layer:
    """F.pad(x, (l, r, t, b), "constant", 0): the Pad layer; "reflect" / "replicate" of images: their layers."""
    pads = [int(const(p, "padding")) for p in const(arg(node, 1, "pad", []), "padding")]
    mode = const(arg(node, 2, "mode", "constant"), "mode")
    value = const(arg(node, 3, "value", None), "value")
    if mode == "constant":
        return Layer("Pad", {"padding": pads, "value": float(value or 0.0)}, [tensor_arg(node)])
    layer = {"reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d"}.get(mode)
    if layer is None or len(pads) != 4 or rank(tensor_arg(node)) != 4:
        raise Unsupported(f'F.pad with mode "{mode}" is only a TorchCanvas layer for images and 4 numbers')
    return Layer(layer, {"padding": size(pads)}, [tensor_arg(node)])


def index(node: fx.Node) -> Layer:
    """x[:, 0] (a token: Take token), x[:, :, a:b, ::s] (one Slice per cut dimension), and ``out, _ = attn(...)``:
    the first of a layer's two outputs (its output in the drawing)."""
    x, index = node.args[0], node.args[1]
    if not isinstance(x, fx.Node):
        raise Unsupported("indexing something else than a tensor of the network")
    meta = x.meta.get("tensor_meta")
    if isinstance(meta, (tuple, list)) and not hasattr(meta, "shape"):  # (output, state) or (output, weights)
        if index != 0 and node.users:  # ``out, _ = attn(...)`` also makes the unused ``_``
            raise Unsupported(
                f"output [{index}] of a layer that returns two, (output, state) or (output, weights), where a drawing "
                "keeps only the first, the output"
            )
        return Layer("", {}, [x])
    dims = rank(x)
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (dims - len(items) + 1)
    steps: list[tuple[str, dict[str, Any]]] = []
    gone = 0  # dimensions an integer index removed: the later ones move forward
    for dim, item in enumerate(items):
        if isinstance(item, slice) and item == slice(None):
            continue
        if dim == 0:
            raise Unsupported(
                f"`x[{index_text(items)}]` (it picks from the batch dimension; a drawing keeps every sample)"
            )
        if isinstance(item, int) and not isinstance(item, bool) and dim == 1 and dims >= 3:
            steps.append(("TakeToken", {"index": item}))
            gone += 1
            continue
        if isinstance(item, list) and len(item) == 1 and type(item[0]) is int:  # x[:, [-1]] keeps the dimension
            item = slice(item[0], item[0] + 1 if item[0] != -1 else None)
        if not isinstance(item, slice):
            raise Unsupported(
                f"`x[{index_text(items)}]`: only slices (x[:, :, 2:30]) and one token (x[:, 0]) are TorchCanvas layers"
            )
        bounds = [const(v, "slice") for v in (item.start, item.stop, item.step)]
        if any(v is not None and (not isinstance(v, int) or isinstance(v, bool)) for v in bounds):
            raise Unsupported("a slice whose bounds are not whole numbers")
        start, end, step = bounds
        steps.append(("Slice", {"dim": dim - gone, "start": start or 0, "end": end, "step": step or 1}))
    if not steps:
        return Layer("", {}, [x])
    (first, params), *then = steps
    return Layer(first, params, [x], then)


def index_text(items: list[Any]) -> str:
    def one(item: Any) -> str:
        if isinstance(item, slice):
            parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        return "..." if item is Ellipsis else str(item)

    return ", ".join(one(i) for i in items)


def attention(node: fx.Node) -> Layer:
    """F.scaled_dot_product_attention(q, k, v, is_causal=...): the Attention (q, k, v) layer. Its dropout is what
    training uses, read from the line (``self.dropout if self.training else 0``: the module's ``dropout``), or the
    value traced in eval mode with a note when the line's expression cannot be read so."""
    q, k, v = (arg(node, i, name, None) for i, name in enumerate(("query", "key", "value")))
    if not all(isinstance(t, fx.Node) for t in (q, k, v)):
        raise Unsupported("F.scaled_dot_product_attention of something else than tensors of the network")
    for i, name, default in ((3, "attn_mask", None), (6, "scale", None), (7, "enable_gqa", False)):
        if const(arg(node, i, name, default), name) != default:
            raise Unsupported(f"F.scaled_dot_product_attention with {name}: only is_causal is a TorchCanvas setting")
    causal = bool(const(arg(node, 5, "is_causal", False), "is_causal"))
    dropout = float(const(arg(node, 4, "dropout_p", 0.0), "dropout_p"))
    written = training_value(node, "scaled_dot_product_attention", "dropout_p", 4)
    if written is not None and written.value is not None:
        dropout = written.value  # ``self.dropout if self.training else 0``: the layer drops in training only
    elif written is not None:
        unread_note(node, "The attention's dropout_p", written.text, dropout)
    return Layer("ScaledDotProductAttention", {"is_causal": causal, "dropout": dropout}, [q, k, v])  # type: ignore[list-item]


def arange(node: fx.Node) -> Layer:
    """``torch.arange(0, t, device=x.device)`` where t is the sequence's length (dimension 1 of ``x``, folded to its
    number), looked up in a table of position vectors (an Embedding): the positions 0 … t-1, one row per sample in
    the drawing (Positions). Any other range, or one used otherwise, is refused."""
    owner = node.graph.owning_module
    if owner is None or not all(_is_embedding(owner, user) for user in node.users):  # no users: a trace's leftover
        raise Unsupported("`torch.arange`")
    numbers = [const(a, "range") for a in node.args]
    start, end, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers, 1)[:3]
    dtype = node.kwargs.get("dtype")
    device = node.kwargs.get("device")
    reads = isinstance(device, fx.Node) and device.target is getattr and device.args[1:] == ("device",)
    source = device.args[0] if reads else None  # type: ignore[union-attr]
    if source is None:
        source = next((n for n in node.graph.nodes if n.op == "placeholder"), None)
    shape = shape_of(source) if isinstance(source, fx.Node) else None
    if (start, step) != (0, 1) or shape is None or len(shape) < 2 or shape[1] != end:
        steps = f" (its input has {shape[1]} steps)" if shape and len(shape) > 1 else ""
        raise Unsupported(
            f"`torch.arange({', '.join(str(n) for n in numbers)})`: only the positions of a sequence's steps, "
            f"torch.arange(x.size(1)), are a TorchCanvas layer (Positions){steps}"
        )
    if dtype is not None and str(dtype) not in ("torch.int64", "torch.long"):
        raise Unsupported(f"`torch.arange(...)` of {dtype}: Positions gives whole numbers (torch.long)")
    return Layer("Positions", {}, [source])  # type: ignore[list-item]


def _is_embedding(owner: nn.Module, node: fx.Node) -> bool:
    return node.op == "call_module" and isinstance(owner.get_submodule(str(node.target)), nn.Embedding)
