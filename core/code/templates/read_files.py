"""How the generated script reads the user's own array files: an ``.npz`` file, the
two files of the MNIST format (IDX), a CSV file of numbers. Each function returns the
five arrays ``(x, y, x_test, y_test, class_names)``; ``core.code.script_data`` pastes
its body into ``load_data`` (``raw = ...``, or resized first when the settings ask).
``# [tokens]``: the inputs are token ids, read as int64.
"""

from __future__ import annotations

from core.code.templates.script_names import DATA_FILE
from core.portable.sources import load_idx, load_npz
from core.portable.tables import load_csv

# the script's constants naming the files (core.datasets.files writes them)
IMAGES_FILE, LABELS_FILE = "images-idx3-ubyte", "labels-idx1-ubyte"
LABEL_COLUMN = "label"


def npz() -> tuple:
    """The arrays of an ``.npz`` file: x_train, y_train, and x_test, y_test if there."""
    return load_npz(
        DATA_FILE,
        tokens=True,  # [tokens]
    )


def idx() -> tuple:
    """Images and labels in the MNIST format (``.gz`` or not)."""
    return load_idx(IMAGES_FILE, LABELS_FILE)


def csv() -> tuple:
    """A CSV file of numbers, one sample a row; LABEL_COLUMN holds the classes."""
    return load_csv(
        DATA_FILE,
        LABEL_COLUMN,
        tokens=True,  # [tokens]
    )
