"""The causal mask a model builds for its Transformer encoder (pytorch/examples' TransformerModel:
``torch.log(torch.tril(torch.ones(T, T)))``, moved ``.to(device)``), read as the encoder's ``causal`` setting.

For the one sequence length an import is made for, the mask is a constant the trace holds as a tensor. When it is
the causal mask of that length (0 on and below the diagonal, -inf above; or True above it), the encoder is drawn
causal and the mask's nodes draw nothing; a drawing's causal encoder builds the same mask for any length. Any other
mask is refused in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from core.fx_import.trace import shape_of


@dataclass
class Masks:
    causal: dict[fx.Node, str | None] = field(default_factory=dict)  # encoder call -> None (causal) or why not
    parts: set[fx.Node] = field(default_factory=set)  # the nodes that build the masks: drawn as nothing


def causal_masks(gm: fx.GraphModule) -> Masks:
    found = Masks()
    for node in gm.graph.nodes:
        if node.op != "call_module" or not isinstance(gm.get_submodule(str(node.target)), nn.TransformerEncoder):
            continue
        mask = node.args[1] if len(node.args) > 1 else node.kwargs.get("mask")
        if node.kwargs.get("src_key_padding_mask") is not None or len(node.args) > 2:
            found.causal[node] = "it is given a padding mask, which a drawing's encoder does not take"
            continue
        if mask is None:
            continue
        parts: set[fx.Node] = set()
        value = _constant(gm, mask, parts)
        shape = shape_of(node.args[0])
        steps = int(shape[1]) if shape is not None and len(shape) == 3 else 0
        if value is None or not steps or not _is_causal(value, steps):
            found.causal[node] = (
                "it is given an attention mask other than the causal one (each step sees itself and the steps "
                "before it), which is the only mask a drawing's encoder builds"
            )
            continue
        found.causal[node] = None
        found.parts |= parts
    return found


def _constant(gm: fx.GraphModule, value: Any, parts: set[fx.Node]) -> torch.Tensor | None:
    """The tensor a mask node holds: a constant (``get_attr``), possibly moved ``.to(device)``."""
    if not isinstance(value, fx.Node):
        return value if isinstance(value, torch.Tensor) else None
    parts.add(value)
    if value.op == "get_attr":
        found = getattr(gm, str(value.target), None)
        return found if isinstance(found, torch.Tensor) else None
    if value.op == "call_method" and value.target == "to":
        return _constant(gm, value.args[0], parts)
    return None


def _is_causal(mask: torch.Tensor, steps: int) -> bool:
    if tuple(mask.shape) != (steps, steps):
        return False
    above = torch.triu(torch.ones(steps, steps, dtype=torch.bool), diagonal=1)
    if mask.dtype == torch.bool:
        return bool(torch.equal(mask.cpu(), above))
    return bool(torch.equal(mask.cpu().float(), torch.zeros(steps, steps).masked_fill(above, float("-inf"))))
