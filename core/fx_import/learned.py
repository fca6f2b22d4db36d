"""Tensors a model learns and uses directly in forward (ViT's ``class_token`` and ``pos_embedding``, ConvNeXt's
``layer_scale``) as LearnedTensor layers, kept under their own ``state_dict`` key.

fx records such a tensor as a ``get_attr`` node. It becomes a layer where it meets the network: added to or
multiplied with a tensor (``x + self.pos_embedding``, ``self.layer_scale * x``), or, expanded to the batch
(``self.class_token.expand(n, -1, -1)``), joined to one (``torch.cat``). That tensor is the layer's input, which
only gives the batch size; the layer gives the learned tensor for each sample, so the merge that follows sees the
same values the original computed by broadcasting. Anything else (a buffer, a weight passed to ``F.linear``)
stays the problem it was.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

import torch
from torch import fx

from core.fx_import.fold import BATCH
from core.fx_import.trace import shape_of

_MERGES = {operator.add, operator.iadd, torch.add, operator.mul, torch.mul, torch.cat, torch.concat}
_METHODS = {"add", "mul"}


def _is_merge(node: fx.Node) -> bool:
    if node.op == "call_method":
        return node.target in _METHODS
    return node.op == "call_function" and node.target in _MERGES


def _tensors(node: fx.Node) -> list[fx.Node]:
    """The tensors a merge combines, in order (``torch.cat``'s list, or the two operands)."""
    first = node.args[0] if node.args else None
    values = first if isinstance(first, (list, tuple)) else node.args[:2]
    return [v for v in values if isinstance(v, fx.Node)]


class Learned:
    """Which ``get_attr`` parameters (and their ``expand`` calls) become LearnedTensor layers, and the layers."""

    def __init__(self, gm: fx.GraphModule) -> None:
        self.gm = gm
        self.uses: dict[fx.Node, fx.Node] = {}  # the value a merge meets (the parameter or its expand) -> get_attr
        self.expanded: set[fx.Node] = set()
        self.skip: set[fx.Node] = set()  # nodes the importer passes over: drawn by ``items``
        self.drawn: set[fx.Node] = set()
        for node in gm.graph.nodes:
            if node.op == "get_attr" and isinstance(self._tensor(node), torch.nn.Parameter):
                self._accept(node)

    def _tensor(self, node: fx.Node) -> Any:
        owner, _, attr = str(node.target).rpartition(".")
        try:
            return getattr(self.gm.get_submodule(owner), attr)
        except AttributeError:
            return None

    def _accept(self, node: fx.Node) -> None:
        values: list[fx.Node] = []
        for user in node.users:
            if user.op == "call_method" and user.target == "expand" and self._to_batch(node, user):
                if not all(_is_merge(u) for u in user.users):
                    return
                values.append(user)
            elif _is_merge(user):
                values.append(node)
            else:
                return
        for value in values:
            self.uses[value] = node
            if value is not node:
                self.expanded.add(value)
        self.skip |= {node, *values}

    def _to_batch(self, node: fx.Node, expand: fx.Node) -> bool:
        """``p.expand(n, -1, -1)`` of a [1, ...] parameter: its value for each sample of the batch."""
        sizes = list(expand.args[1:])
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        shape = shape_of(node) or ()
        if len(sizes) != len(shape) or not shape or shape[0] != 1:
            return False
        first_is_batch = sizes[0] is BATCH or (
            isinstance(sizes[0], fx.Node) and getattr(sizes[0], "target", None) in ("size", operator.getitem)
        )
        return first_is_batch and all(s == -1 or s == d for s, d in zip(sizes[1:], shape[1:], strict=True))

    def items(self, merge: fx.Node, flat: Any) -> Iterator[Any]:
        """The LearnedTensor layers a merge needs, just before it (its other input exists by then)."""
        # here, not above: core.fx_import.items imports this module (cycle)
        from core.fx_import.items import Item, _chain

        if not _is_merge(merge):
            return
        tensors = _tensors(merge)
        partners = [t for t in tensors if t not in self.uses]
        for value in tensors:
            if value not in self.uses or value in self.drawn:
                continue
            self.drawn.add(value)
            param = self.uses[value]
            if not partners:
                flat.add_problem(f"`model.{param.target}` is combined only with other learned tensors in forward.")
                continue
            shape = [int(d) for d in shape_of(param) or ()]
            partner = partners[0]
            rank = len(shape_of(partner) or ())
            batch_first = value in self.expanded or (shape[:1] == [1] and len(shape) == rank)
            if not batch_first and len(shape) + 1 != rank:
                flat.add_problem(
                    f"`model.{param.target}` (shape {shape}) is combined with a tensor of {rank} dimensions: only a "
                    "learned tensor of the same dimensions (its first 1) or one fewer is a TorchCanvas layer."
                )
                continue
            owner, _, attr = str(param.target).rpartition(".")
            chain = _chain(merge, flat)
            if (chain[-1] if chain else "") != owner:
                flat.add_problem(
                    f"`model.{param.target}` is used in forward outside the module that holds it: a drawing keeps a "
                    "learned tensor in its own module."
                )
                continue
            params = {"shape": shape, "start": 1 if batch_first else 0}
            yield Item(value, "LearnedTensor", params, attr, [partner], chain, True)
