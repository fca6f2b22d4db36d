"""Each TorchCanvas layer's Keras 3 counterpart, by layer id: the view of the kinds' ``keras`` mappings.

A mapping turns a node's effective parameters and shapes into the Keras layer(s) that compute the same function,
with a comment where the two libraries differ (a layout, a default, a bias); it lives beside the kind's catalog
entry in ``core.model.kinds`` (``KerasLayer``, ``NoEquivalent`` and the shared helpers: ``core.model.kinds.keras``).
A layer id missing here, or a parameter value Keras cannot express, makes the whole export fail with one message
naming every such layer (``core.code.keras_code``).

``HELPERS`` holds the few classes a mapping's text names that Keras lacks: the generated code defines those it
reads, after ``build_model`` (the script and the notebook take the model from ``def build_model`` on).
"""

from __future__ import annotations

from core.model.kinds import keras
from core.model.kinds.keras import CF, KerasLayer, Mapper, NoEquivalent

__all__ = ["CF", "HELPERS", "KERAS_LAYERS", "KerasLayer", "Mapper", "NoEquivalent"]

KERAS_LAYERS: dict[str, Mapper] = keras()

# nn.Embedding's padding_idx (the Embedding kind's mapping): Keras has no such option, and mask_zero is another
# thing (it hides the padding from the layers after it, where PyTorch's Mean counts it). The row starts at zero
# and a constraint, which Keras applies after every optimizer update, sets it back to zero.
HELPERS: dict[str, str] = {
    "KeepPaddingZero": '''class KeepPaddingZero(keras.constraints.Constraint):
    """PyTorch's padding_idx: the padding token's vector is set back to zero after every
    training step (Keras calls a constraint after each update)."""

    def __init__(self, padding_idx):
        self.padding_idx = padding_idx

    def __call__(self, w):
        rows = keras.ops.arange(keras.ops.shape(w)[0])  # 0, 1, ..., input_dim - 1
        is_padding = keras.ops.expand_dims(rows == self.padding_idx, 1)  # one per row
        return keras.ops.where(is_padding, 0.0, w)

    def get_config(self):
        return {"padding_idx": self.padding_idx}''',
    "UniformPaddingZero": '''class UniformPaddingZero(keras.initializers.RandomUniform):
    """Keras' own Embedding start (uniform in [-0.05, 0.05]) with the padding token's
    vector at zero, as PyTorch starts it."""

    def __init__(self, padding_idx, **kwargs):
        super().__init__(**kwargs)
        self.padding_idx = padding_idx

    def __call__(self, shape, dtype=None):
        return KeepPaddingZero(self.padding_idx)(super().__call__(shape, dtype))

    def get_config(self):
        return {**super().get_config(), "padding_idx": self.padding_idx}''',
}
