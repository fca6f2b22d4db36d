"""How the generated script reads the sets TorchCanvas has built in or downloads: a
scikit-learn table, a drawn point set, token sequences, coloured shapes, torchvision's
images. Each function returns the five arrays ``(x, y, x_test, y_test, class_names)``;
``core.code.script_data`` pastes its body into ``load_data`` as ``raw = ...``, with the
source's values (``core.datasets``' registry says which) in place of the placeholders.
"""

from __future__ import annotations

from core.code.templates.script_names import DATA_DIR, SEED
from core.datasets.shapes_draw import make_shapes
from core.portable.points import (
    blob_points,
    circle_points,
    moon_points,
    spiral_points,
    xor_points,
)
from core.portable.sources import (
    load_digits,
    load_sklearn,
    load_torchvision,
    make_sequences,
)

# placeholders: the source's values, written as Python literals
SET_NAME = "digits"  # scikit-learn's table, the point set or torchvision's dataset
SAMPLES, NOISE, CLASS_COUNT = 1000, 0.2, 3
LENGTH, VOCAB = 20, 30  # tokens a sequence, different tokens


def sklearn() -> tuple:
    """A table of scikit-learn."""
    return load_sklearn(SET_NAME)


def digits() -> tuple:
    """scikit-learn's 8x8 handwritten digits."""
    return load_digits()


def spirals() -> tuple:
    """Points in the plane drawn from the seed: the app's points, exactly."""
    return spiral_points(SAMPLES, NOISE, CLASS_COUNT, SEED)


def moons() -> tuple:
    """Points in the plane drawn from the seed: the app's points, exactly."""
    return moon_points(SAMPLES, NOISE, SEED)


def circles() -> tuple:
    """Points in the plane drawn from the seed: the app's points, exactly."""
    return circle_points(SAMPLES, NOISE, SEED)


def xor() -> tuple:
    """Points in the plane drawn from the seed: the app's points, exactly."""
    return xor_points(SAMPLES, NOISE, SEED)


def blobs() -> tuple:
    """Points in the plane drawn from the seed: the app's points, exactly."""
    return blob_points(SAMPLES, NOISE, CLASS_COUNT, SEED)


def sequences() -> tuple:
    """Token sequences drawn from the seed; the class is the marker token they hold."""
    return make_sequences(SAMPLES, LENGTH, VOCAB, CLASS_COUNT, SEED)


def shapes() -> tuple:
    """Coloured shapes on 32x32 pictures, drawn from the seed."""
    return make_shapes(SAMPLES, CLASS_COUNT, SEED)


def torchvision() -> tuple:
    """One of torchvision's datasets, downloaded into DATA_DIR the first time."""
    return load_torchvision(SET_NAME, DATA_DIR)
