"""A model's own class that is one torch layer written out, drawn as that catalog layer under the module's name.

nanoGPT writes its ``LayerNorm`` as ``F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)`` (so
its bias can be left out); traced through, it is two tensors used directly in forward and a functional call, none
of them a layer. When a module's whole forward is that one call on its own ``weight`` and ``bias``, it is the
catalog's LayerNorm named as the module (``ln_1``), so the keys ``ln_1.weight`` and ``ln_1.bias`` stay.
"""

from __future__ import annotations

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
        if layer is not None:
            found[layer.node] = layer
    return found


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
