"""Tensor code as layers: ``x[:, 0]`` and ``x[:, :, 2:30:2]`` (Take token, Slice), ``F.pad`` (Pad, or reflection
and replication padding of images), ``F.interpolate`` (Upsample), and the first of a layer's two outputs
(``out, _ = attn(x, x, x)``)."""

from __future__ import annotations

from typing import Any

from torch import fx

from core.fx_import.calls import Layer, Unsupported, arg, const, rank, size, tensor_arg
from core.fx_import.trace import shape_of
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
    except NotImportable as exc:
        raise Unsupported(str(exc)) from None


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
