"""A model that reads its sequences time first (``nn.LSTM(..., batch_first=False)``: [steps, batch, ...], as
pytorch/examples' word_language_model does) drawn batch first, the canvas's one layout.

Time first and batch first hold the same numbers with the first two dimensions swapped, and most layers do not care
which is which: an Embedding, Dropout, a Linear or an activation acts on each step of each sample alike. So the
traced graph is rewritten value by value: the input and every value that follows it is "swapped" (its shape is
given batch first, which is the shape the drawing shows), a recurrent layer is drawn with ``batch_first=True`` and
the same weights, ``x.view(-1, V)`` that merges steps and batch into one dimension draws nothing (the value stays
[N, T, V]: "merged"), and a softmax over a dimension counts it in the drawing's layout. Anything else a time-first
value meets is refused in words. The recurrent layer's final state, which forward may also return for the next
batch, is no output of the drawing.

``Calling`` says how the original is called and compared with the drawing: the inputs transposed, the starting
states left out (None: zeros), the outputs kept and their layouts. ``core.fx_import.verify`` and
``bench/import_wild.py`` both follow it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from core.fx_import.trace import node_line

_SAME_MODULES = (nn.Embedding, nn.Dropout, nn.Linear, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU)
_SAME_CALLS = {operator.add, operator.mul, operator.sub, operator.truediv, torch.add, torch.mul, F.relu, F.dropout}
_SAME_METHODS = {"relu", "tanh", "sigmoid", "contiguous"}
_DIM_CALLS = {F.softmax, F.log_softmax, torch.softmax, torch.log_softmax}
_DIM_METHODS = {"softmax", "log_softmax"}


@dataclass
class Calling:
    """How the original is called and its outputs compared with the drawing's (verify, the bench)."""

    transposed: list[bool] = field(default_factory=list)  # per input: the original reads it time first
    zero_states: list[str] = field(default_factory=list)  # forward's starting states, left out (None: zeros)
    kept: list[int] | None = None  # the original's outputs the drawing gives (None: every one that is not None)
    layouts: list[str] = field(default_factory=list)  # per kept output: "" as is, "swap" or "merged"

    def original_inputs(self, samples: list[torch.Tensor]) -> list[torch.Tensor]:
        """The batch-first samples as the original reads them."""
        flags = self.transposed or [False] * len(samples)
        return [s.transpose(0, 1).contiguous() if t else s for s, t in zip(samples, flags, strict=True)]

    def drawn_outputs(self, outputs: Any, batch: int) -> list[Any]:
        """The original's outputs (a tensor or a tuple) in the drawing's layout, those it gives only."""
        items = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        if self.kept is None:
            return [item for item in items if item is not None]
        kept = [items[i] for i in self.kept]
        layouts = self.layouts or [""] * len(kept)
        return [_as_drawn(item, layout, batch) for item, layout in zip(kept, layouts, strict=True)]


def _as_drawn(value: torch.Tensor, layout: str, batch: int) -> torch.Tensor:
    if layout == "swap":
        return value.transpose(0, 1)
    if layout == "merged":  # [T * N, ...] -> [N, T, ...]
        return value.reshape(-1, batch, *value.shape[1:]).transpose(0, 1)
    return value


def time_first(module: nn.Module) -> bool:
    """A layer that reads [steps, batch, ...]: an LSTM/GRU/RNN or a Transformer encoder without batch_first."""
    if isinstance(module, nn.RNNBase):
        return not module.batch_first
    if isinstance(module, nn.TransformerEncoder):
        return not module.layers[0].self_attn.batch_first
    if isinstance(module, nn.TransformerEncoderLayer):
        return not module.self_attn.batch_first
    return False


def reads_time_first(module: nn.Module) -> bool:
    return any(time_first(m) for m in module.modules())


def time_major_layers(gm: fx.GraphModule) -> list[fx.Node]:
    """Calls of the layers built time first."""
    return [
        node for node in gm.graph.nodes if node.op == "call_module" and time_first(gm.get_submodule(str(node.target)))
    ]


def time_major_inputs(gm: fx.GraphModule) -> list[fx.Node]:
    """The inputs that reach a time-first layer."""
    layers = set(time_major_layers(gm))
    found = []
    for node in gm.graph.nodes:
        if node.op != "placeholder":
            continue
        seen, stack = set(), [node]
        while stack:
            value = stack.pop()
            if value in layers:
                found.append(node)
                break
            for user in value.users:
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
    return found


class _Refused(Exception):
    pass


def relayout(gm: fx.GraphModule, inputs: list[fx.Node], calling: Calling) -> tuple[list[str], list[str]]:
    """Rewrites the graph batch first (see the module's words); fills ``calling``'s outputs. Returns (problems,
    notes)."""
    layout: dict[fx.Node, str] = {}
    merged: list[fx.Node] = []
    notes: list[str] = []
    try:
        for node in list(gm.graph.nodes):
            if node.op == "placeholder":
                if node in inputs:
                    layout[node] = "swap"
                    _swap_meta(node)
                continue
            touched = [a for a in node.all_input_nodes if a in layout]
            if not touched:
                continue
            if node.op == "call_function" and node.target is getattr and node.args[1] == "device":
                continue  # where the value lives: the same either way
            if node.op == "call_method" and node.target == "size":
                _move_dim(node, "swap", index=1)
                continue
            if node.op == "output":
                notes += _outputs(node, layout, calling)
                continue
            kind = _step(gm, node, layout, touched)
            if kind == "merged" and layout[touched[0]] == "swap":  # the view that merges: it draws nothing
                merged.append(node)
            layout[node] = kind
            if kind == "swap":
                _swap_meta(node)
            elif kind == "merged":
                _merge_meta(node)
    except _Refused as exc:
        return [str(exc)], []
    for node in merged:
        node.replace_all_uses_with(node.args[0])  # type: ignore[arg-type]
        gm.graph.erase_node(node)
    gm.recompile()
    return [], notes


def _refuse(node: fx.Node, what: str) -> _Refused:
    line = node_line(node)
    layers = time_major_layers(node.graph.owning_module)  # type: ignore[arg-type]
    name = type(node.graph.owning_module.get_submodule(str(layers[0].target))).__name__  # type: ignore[union-attr]
    return _Refused(
        f"`model.{layers[0].target}` is a `{name}`: built without batch_first=True, it reads [steps, batch, "
        f"features], while a drawing reads [batch, steps, features]. The import draws such a model batch first, "
        f"but {what}{f' at {line}' if line else ''} cannot be redrawn so: build it with nn.{name}(..., "
        "batch_first=True) and give it the sequence batch first, or change that line."
    )


def _step(gm: fx.GraphModule, node: fx.Node, layout: dict[fx.Node, str], touched: list[fx.Node]) -> str:
    kinds = {layout[a] for a in touched}
    if "state" in kinds:
        raise _refuse(node, "forward uses the recurrent layer's final state")
    kind = kinds.pop() if len(kinds) == 1 else ""
    if not kind:
        raise _refuse(node, "a value is combined with one of another layout")
    if node.op == "call_module":
        module = gm.get_submodule(str(node.target))
        if time_first(module) and kind == "swap":
            node.meta["drawn_batch_first"] = True
            return "swap"
        if isinstance(module, _SAME_MODULES) and (not isinstance(module, nn.Linear) or _rank(node.args[0]) >= 3):
            return kind
        raise _refuse(node, f"`{node.target}` (an `nn.{type(module).__name__}`)")
    if node.op == "call_function" and node.target is operator.getitem and _is_layer_call(node.args[0], layout):
        return "swap" if node.args[1] == 0 else "state"
    if (node.op == "call_function" and node.target in _SAME_CALLS) or (
        node.op == "call_method" and node.target in _SAME_METHODS
    ):
        return kind
    if (node.op == "call_function" and node.target in _DIM_CALLS) or (
        node.op == "call_method" and node.target in _DIM_METHODS
    ):
        _move_dim(node, kind)
        return kind
    if node.op == "call_method" and node.target in ("view", "reshape") and kind == "swap" and _merges(node):
        return "merged"
    raise _refuse(node, f"`{node.name}`")


def _is_layer_call(value: Any, layout: dict[fx.Node, str]) -> bool:
    return isinstance(value, fx.Node) and value.op == "call_module" and value.meta.get("drawn_batch_first") is True


def _rank(value: Any) -> int:
    meta = value.meta.get("tensor_meta") if isinstance(value, fx.Node) else None
    return len(meta.shape) if meta is not None and hasattr(meta, "shape") else 0


def _merges(node: fx.Node) -> bool:
    """``x.view(-1, *rest)`` of a time-first [T, N, *rest]: steps and batch in one dimension."""
    dims = list(node.args[1:])
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    meta = node.args[0].meta.get("tensor_meta")  # type: ignore[union-attr]
    shape = list(meta.shape) if meta is not None else []
    return len(shape) >= 3 and dims[:1] == [-1] and dims[1:] == shape[2:]


def _move_dim(node: fx.Node, kind: str, index: int = 1) -> None:
    """softmax(x, dim) or x.size(dim) counted in the drawing's layout: [T, N] swaps dims 0 and 1; merged [T*N, ...]
    is [N, T, ...] drawn, one dimension more."""
    dim = node.args[index] if len(node.args) > index else node.kwargs.get("dim")
    if not isinstance(dim, int):
        raise _refuse(node, f"`{node.name}` without a fixed dim")
    if dim >= 0:
        if kind == "swap":
            dim = {0: 1, 1: 0}.get(dim, dim)
        elif dim == 0:
            raise _refuse(node, "a softmax over steps and batch at once")
        else:
            dim += 1
    node.args = (*node.args[:index], *node.args[index + 1 :]) if len(node.args) > index else node.args
    node.kwargs = {**node.kwargs, "dim": dim}


def _swap_meta(node: fx.Node) -> None:
    node.meta["time_first"] = True  # the original reads it time first (own_layers' PositionalEncoding asks)
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape") or len(meta.shape) < 2:
        return
    shape = list(meta.shape)
    shape[0], shape[1] = shape[1], shape[0]
    node.meta["tensor_meta"] = meta._replace(shape=torch.Size(shape))


def _merge_meta(node: fx.Node) -> None:
    """[T * 1, ...] (traced with a batch of one) as the drawing's [1, T, ...]."""
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape") or len(meta.shape) < 1:
        return
    node.meta["tensor_meta"] = meta._replace(shape=torch.Size([1, *meta.shape]))


def _outputs(node: fx.Node, layout: dict[fx.Node, str], calling: Calling) -> list[str]:
    """Keeps the outputs the drawing gives; a final state (for the next batch) is left out, with a note."""
    values = node.args[0]
    several = isinstance(values, (tuple, list))
    items = list(values) if several else [values]  # type: ignore[arg-type]
    kept, layouts, left = [], [], []
    for i, value in enumerate(items):
        kind = layout.get(value, "") if isinstance(value, fx.Node) else ""
        if value is None:
            continue
        if kind == "state":
            left.append(i)
            continue
        kept.append(i)
        layouts.append(kind)
    calling.kept, calling.layouts = kept, layouts
    new = [items[i] for i in kept]
    node.args = (tuple(new) if several else new[0],)
    if not left:
        return []
    which = ", ".join(f"output [{i}]" for i in left)
    return [
        f"forward also returns the recurrent layer's final state ({which}), the starting state for the next batch; "
        "the drawing gives the outputs only."
    ]
