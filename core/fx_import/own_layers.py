"""A model's own class that is one torch layer written out, drawn as that catalog layer under the module's name.

pytorch/examples' ``PositionalEncoding`` (``x + self.pe[:x.size(0), :]`` then dropout, time first, its buffer the
sine and cosine table) is the catalog's PositionalEncoding, whose ``pe`` keeps the key ``pos_encoder.pe``.

nanoGPT writes its ``LayerNorm`` as ``F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)`` (so
its bias can be left out); traced through, it is two tensors used directly in forward and a functional call, none
of them a layer. When a module's whole forward is that one call on its own ``weight`` and ``bias``, it is the
catalog's LayerNorm named as the module (``ln_1``), so the keys ``ln_1.weight`` and ``ln_1.bias`` stay.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

_LAYER_NORMS = (F.layer_norm, torch.layer_norm)


@dataclass
class OwnLayer:
    node: fx.Node  # the call that computes the layer
    path: str  # the module that is the layer
    type: str
    params: dict[str, Any]
    input: fx.Node
    parts: set[fx.Node]  # the module's other nodes (its tensors, their shapes): drawn as nothing


def own_layers(gm: fx.GraphModule, root: nn.Module) -> dict[fx.Node, OwnLayer]:
    """The calls that are a module of the model's own written as one torch layer, by call."""
    by_module: dict[str, list[fx.Node]] = {}
    impure: set[str] = set()  # modules that call other modules
    for node in gm.graph.nodes:
        stack = [str(path) for path, _ in (node.meta.get("nn_module_stack") or {}).values()]
        if not stack:
            continue
        if node.op == "call_module":
            impure.update(stack[:-1])
            continue
        impure.update(stack[:-1])
        by_module.setdefault(stack[-1], []).append(node)
    found: dict[fx.Node, OwnLayer] = {}
    for path, nodes in by_module.items():
        layer = None if path in impure or not path else _layer_norm(path, nodes, root)
        if layer is None and path:
            layer = _positional_encoding(gm, path, nodes, root)
        if layer is not None:
            found[layer.node] = layer
    return found


def sine_table(max_len: int, dim: int) -> torch.Tensor:
    """The sine and cosine table of the catalog's PositionalEncoding, [max_len, 1, dim]."""
    position = torch.arange(max_len, dtype=torch.float).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
    pe = torch.zeros(max_len, dim)
    pe[:, 0::2] = torch.sin(position * rate)
    pe[:, 1::2] = torch.cos(position * rate)
    return pe.unsqueeze(1)


def _positional_encoding(gm: fx.GraphModule, path: str, nodes: list[fx.Node], root: nn.Module) -> OwnLayer | None:
    """``x + self.pe[:T]`` on a time-first x (``time_major`` marks it), then the module's own Dropout, if any."""
    module = root.get_submodule(path)
    state = module.state_dict()
    pe = state.get("pe")
    if set(state) != {"pe"} or pe is None or pe.dim() != 3 or pe.shape[1] != 1 or pe.shape[2] % 2:
        return None
    if not torch.allclose(pe, sine_table(int(pe.shape[0]), int(pe.shape[2])), atol=1e-6):
        return None
    adds = [n for n in nodes if n.op == "call_function" and n.target in (operator.add, torch.add)]
    live = [n for n in nodes if n.users or n in adds]
    if len(adds) != 1 or len(live) != 2:
        return None
    add = adds[0]
    table = next((a for a in add.args if isinstance(a, fx.Node) and a.op == "get_attr"), None)
    x = next((a for a in add.args if isinstance(a, fx.Node) and a is not table), None)
    value = getattr(gm, str(table.target), None) if table is not None else None
    if table is None or x is None or not x.meta.get("time_first") or not isinstance(value, torch.Tensor):
        return None
    if value.shape[0] > pe.shape[0] or not torch.equal(value, pe[: value.shape[0]]):
        return None
    out, p = add, 0.0
    users = list(add.users)
    if len(users) == 1 and users[0].op == "call_module":
        dropout = root.get_submodule(str(users[0].target))
        if isinstance(dropout, nn.Dropout) and str(users[0].target).rpartition(".")[0] == path:
            out, p = users[0], float(dropout.p)
    params = {"max_len": int(pe.shape[0]), "dropout": p}
    gm.meta.setdefault("reads", set()).add(f"{path}.pe")  # read through the slice the trace copied: it is used
    return OwnLayer(out, path, "PositionalEncoding", params, x, {table, add} - {out})


def _arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    return node.args[index] if len(node.args) > index else node.kwargs.get(name, default)


def _layer_norm(path: str, nodes: list[fx.Node], root: nn.Module) -> OwnLayer | None:
    calls = [n for n in nodes if n.op == "call_function" and n.target in _LAYER_NORMS]
    if len(calls) != 1:
        return None
    call = calls[0]
    x, shape = _arg(call, 0, "input"), _arg(call, 1, "normalized_shape")
    weight, bias = _arg(call, 2, "weight"), _arg(call, 3, "bias")
    eps = _arg(call, 4, "eps", 1e-5)
    tensors = {f"{path}.weight": weight, f"{path}.bias": bias}
    if any(not (isinstance(v, fx.Node) and v.op == "get_attr" and v.target == k) for k, v in tensors.items()):
        return None
    module = root.get_submodule(path)
    if set(module.state_dict()) != {"weight", "bias"} or module.get_parameter("weight").dim() != 1:
        return None
    size = int(module.get_parameter("weight").shape[0])
    shape_node = shape if isinstance(shape, fx.Node) else None
    if shape_node is not None:
        if not (shape_node.target is getattr and shape_node.args == (weight, "shape")):
            return None
    elif list(shape if isinstance(shape, (list, tuple)) else [shape]) != [size]:
        return None
    needed = {weight, bias, call, *([shape_node] if shape_node is not None else [])}
    live = {n for n in nodes if n.users or n is call}  # ``fold`` has made ``self.weight.shape`` a number already
    if not isinstance(x, fx.Node) or x in nodes or live != needed or not isinstance(eps, float):
        return None
    return OwnLayer(call, path, "LayerNorm", {"eps": eps, "elementwise_affine": True}, x, set(nodes) - {call})
