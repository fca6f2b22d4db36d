"""Every layer kind, listed once in palette order, and the lookups derived from that list.

Each family module ends with the tuple of its kinds; ``KINDS`` joins them here, as torchvision lists its models.
Nothing registers itself on import: ``core.model.catalog.LAYERS``, ``core.model.shape_rules.RULES`` /
``PARAM_COUNTS``, ``core.model.task_check.KEEPS_SHAPE``, ``core.model.in_place.MEMORY``,
``core.fx_import.modules.MODULES`` and ``core.code.keras_layers.KERAS_LAYERS`` are the views below, taken of
``KINDS``. Adding a kind to a family is one ``kind(...)`` in that family's module (plus its test); a new family is
one module and one line here.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.model.kinds import (
    activation,
    attention,
    conv,
    dropout,
    io,
    linear,
    merge,
    norm,
    pool,
    recurrent,
    shape,
    tensor,
)
from core.model.kinds.keras import Mapper
from core.model.kinds.kind import Count, FromTorch, LayerKind, Memory, Rule
from core.model.kinds.spec import LayerSpec

KINDS: tuple[LayerKind, ...] = (
    *io.KINDS,
    *linear.KINDS,
    *conv.KINDS,
    *pool.KINDS,
    *norm.KINDS,
    *dropout.KINDS,
    *shape.KINDS,
    *tensor.KINDS,
    *recurrent.KINDS,
    *merge.KINDS,
    *activation.KINDS,
    *attention.KINDS,
)


def layers(kinds: Iterable[LayerKind] = KINDS) -> dict[str, LayerSpec]:
    """The catalog entries by id, in palette order."""
    return {k.id: k.spec for k in kinds}


def rules(kinds: Iterable[LayerKind] = KINDS) -> dict[str, Rule]:
    """The shape rules by id (a kind without one passes its input through)."""
    return {k.id: k.rule for k in kinds if k.rule is not None}


def param_counts(kinds: Iterable[LayerKind] = KINDS) -> dict[str, Count]:
    """How many parameters a kind holds, from its effective parameters (a kind without one holds none)."""
    return {k.id: k.count for k in kinds if k.count is not None}


def from_torch(kinds: Iterable[LayerKind] = KINDS) -> dict[str, FromTorch]:
    """The fx import's readers by id (the torch class is the kind's ``torch_class``)."""
    return {k.id: k.from_torch for k in kinds if k.from_torch is not None}


def imported_classes(kinds: Iterable[LayerKind] = KINDS) -> dict[str, str]:
    """Classes outside ``torch.nn`` the fx import reads as a kind: ``module.QualName`` -> the kind's id."""
    return {name: k.id for k in kinds if k.from_torch is not None for name in k.imports}


def keras(kinds: Iterable[LayerKind] = KINDS) -> dict[str, Mapper]:
    """The Keras mappings by id."""
    return {k.id: k.keras for k in kinds if k.keras is not None}


def keeps_shape(kinds: Iterable[LayerKind] = KINDS) -> set[str]:
    """Kinds with a rule that still hand their input's shape on (the task check walks through them)."""
    return {k.id for k in kinds if k.keeps_shape}


def memory(kinds: Iterable[LayerKind] = KINDS, in_place: bool = False) -> dict[str, Memory]:
    """Kinds whose output is not new memory free to overwrite (``Memory``); ``in_place``: with their ``inplace``
    set."""
    found = {k.id: k.memory_in_place if in_place else k.memory for k in kinds}
    return {key: value for key, value in found.items() if value != "new"}


def _check_unique(kinds: tuple[LayerKind, ...]) -> None:
    seen: set[str] = set()
    for k in kinds:
        if k.id in seen:
            raise ValueError(f"layer kind {k.id!r} is listed twice")
        seen.add(k.id)


_check_unique(KINDS)
