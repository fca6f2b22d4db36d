"""A node (one layer, with the parameters the user set) and an edge (a wire between two nodes' ports).

The records a ``core.model.graph.Graph`` holds, and the check of a node's parameters against the layer catalog.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from core.errors import ParameterError
from core.model.catalog import LAYERS, LayerSpec


@dataclass
class Node:
    """One layer. ``params`` holds only what the user set; pinning an auto parameter means setting it."""

    id: str
    type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)
    # (inputs, outputs) of a node whose layer type the catalog does not know (from a newer TorchCanvas), so its
    # wires survive loading and saving; ignored for known types, whose ports come from the catalog.
    ports: tuple[int, int] | None = None
    # A block instance (type "Block", see core.model.blocks): the definition's name, how many copies in a row, and what
    # the first copy does differently (another definition, other argument values), as a ResNet stage's first block.
    block: str | None = None
    repeat: int = 1
    first_block: str | None = None
    first_params: dict[str, Any] = field(default_factory=dict)
    # An imported block's name in the original's weights where Python cannot spell it (regnet's ``block1-0``; the
    # node is named ``block1_0``): the code registers the module under it, so the state_dict loads unchanged.
    key: str | None = None
    # False freezes the layer (or every layer of a block): its parameters get no gradient, the optimizer skips them
    # and a frozen BatchNorm keeps its running statistics (stays in eval mode), as Keras' ``trainable = False``.
    trainable: bool = True

    @property
    def spec(self) -> LayerSpec | None:
        return LAYERS.get(self.type)

    def input_count(self) -> int:
        spec = self.spec
        if spec is None:
            return self.ports[0] if self.ports else 0
        return spec.input_count(self.params)

    def output_count(self) -> int:
        spec = self.spec
        if spec is None:
            return self.ports[1] if self.ports else 0
        return spec.outputs

    def copy(self) -> Node:
        return Node(
            self.id,
            self.type,
            self.name,
            copy.deepcopy(self.params),
            tuple(self.pos),  # type: ignore[arg-type]
            self.ports,
            self.block,
            self.repeat,
            self.first_block,
            copy.deepcopy(self.first_params),
            self.key,
            self.trainable,
        )

    def to_dict(self) -> dict[str, Any]:
        """The node's file form (one entry of the project's ``nodes``)."""
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "params": copy.deepcopy(self.params),
            "pos": [self.pos[0], self.pos[1]],
        }
        if self.spec is None and self.ports is not None:
            data["ports"] = [self.ports[0], self.ports[1]]  # unknown layer types and blocks store their port counts
        if self.block is not None:
            data["block"] = self.block
            if self.repeat != 1:
                data["repeat"] = self.repeat
            if self.first_block is not None:
                data["first_block"] = self.first_block
            if self.first_params:
                data["first_params"] = copy.deepcopy(self.first_params)
        if self.key is not None:  # an imported module's name in the weights ("block1-0", a list's "0")
            data["key"] = self.key
        if not self.trainable:
            data["trainable"] = False  # written only when frozen, so older readers see the files they know
        return data


@dataclass(frozen=True, order=True)
class Edge:
    """A wire from ``src``'s output port to input port ``dst_port`` of ``dst``."""

    src: str
    dst: str
    dst_port: int = 0
    src_port: int = 0


def validate_params(spec: LayerSpec, params: dict[str, Any], node_name: str = "") -> dict[str, Any]:
    """Check every user-set value against the catalog; return them normalised."""
    clean: dict[str, Any] = {}
    who = f"{node_name}: " if node_name else ""
    for key, value in params.items():
        if not spec.has_param(key):
            raise ParameterError(f"{who}{spec.id} has no parameter {key!r}")
        try:
            clean[key] = spec.param(key).validate(value)
        except ParameterError as exc:
            raise ParameterError(f"{who}{exc}") from None
    return clean
