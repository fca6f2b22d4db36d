"""The layer catalog: one entry per layer kind, keyed by a stable id, and its lookups.

Project files store the id and the parameter values; everything else (editor widgets, shape rules, generated
code, documentation links) is looked up here. The entries are the ``spec`` of each kind in
``core.model.kinds.KINDS`` (one module per family: a kind's entry, shape rule, parameter count, fx import and
Keras mapping side by side); ``LAYERS`` is derived from that list, and the schema lives in
``core.model.kinds.spec``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import UnknownLayerError
from core.model.kinds import layers
from core.model.kinds.attention import SPECIALISED_HELPERS
from core.model.kinds.spec import CATEGORIES, DOCS, LayerSpec, ParamKind, ParamSpec

__all__ = [
    "CATEGORIES",
    "DOCS",
    "LAYERS",
    "LayerSpec",
    "ParamKind",
    "ParamSpec",
    "by_category",
    "get_spec",
    "helper_lines",
]

LAYERS: dict[str, LayerSpec] = layers()


def get_spec(layer_id: str) -> LayerSpec:
    try:
        return LAYERS[layer_id]
    except KeyError:
        raise UnknownLayerError(f"Unknown layer type {layer_id!r}") from None


def helper_lines(
    layer_ids: Iterable[str], params: Mapping[str, Iterable[Mapping[str, Any]]] | None = None
) -> list[str]:
    """The helper classes a model using these layers needs, each followed by two blank lines (once each). A kind
    whose class has lines only some options use (``SPECIALISED_HELPERS``) gets the class for what its nodes set
    (``params``: the parameters of each layer id's nodes); without ``params``, the class that takes every option."""
    lines: list[str] = []
    for layer_id in dict.fromkeys(layer_ids):
        source = LAYERS[layer_id].helper if layer_id in LAYERS else ""
        if source and params is not None and layer_id in SPECIALISED_HELPERS:
            source = SPECIALISED_HELPERS[layer_id](params.get(layer_id, ()))
        if source:
            lines += [*source.strip("\n").splitlines(), "", ""]
    return lines


def by_category() -> dict[str, list[LayerSpec]]:
    """Layers grouped in palette order."""
    groups: dict[str, list[LayerSpec]] = {c: [] for c in CATEGORIES}
    for spec in LAYERS.values():
        groups[spec.category].append(spec)
    return groups
