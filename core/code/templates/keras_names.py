"""The names the Keras script binds itself or the generator fills in, which
``keras_main`` reads beside those of ``script_names`` (the constants both scripts
share): declared here with example values so that template lints and type-checks;
nothing of this module is ever written into a script."""

from __future__ import annotations

from typing import Any

LOSS: Any = None  # the Keras loss object (the PyTorch script's LOSS is its name)
HISTORY_FILE = "keras_history.json"
WEIGHTS_FILE = "keras_model.weights.h5"
# Placeholders: the PyTorch defaults the optimizer is given, the metric, the score a
# callback watches and ReduceLROnPlateau's arguments (the optimizer's class, OPTIMIZER,
# is an attribute of keras.optimizers: no name to declare).
RHO = 0.99
EPSILON = 1e-8
METRIC: Any = None
MONITOR = "val_loss"
PLATEAU: tuple = ()
VALIDATION: Any = None  # the validation split given to fit
TRAINING_SAMPLES = 1  # the arrays' samples, or the streamed Dataset's


def build_model() -> Any:
    """Written per project by ``core.code.keras_code``."""
    return None
