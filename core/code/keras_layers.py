"""Each TorchCanvas layer's Keras 3 counterpart, by layer id: the view of the kinds' ``keras`` mappings.

A mapping turns a node's effective parameters and shapes into the Keras layer(s) that compute the same function,
with a comment where the two libraries differ (a layout, a default, a bias); it lives beside the kind's catalog
entry in ``core.model.kinds`` (``KerasLayer``, ``NoEquivalent`` and the shared helpers: ``core.model.kinds.keras``).
A layer id missing here, or a parameter value Keras cannot express, makes the whole export fail with one message
naming every such layer (``core.code.keras_code``).
"""

from __future__ import annotations

from core.model.kinds import keras
from core.model.kinds.keras import CF, KerasLayer, Mapper, NoEquivalent

__all__ = ["CF", "KERAS_LAYERS", "KerasLayer", "Mapper", "NoEquivalent"]

KERAS_LAYERS: dict[str, Mapper] = keras()
