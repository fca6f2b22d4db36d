"""``load_data``, the generated script's function that reads the dataset and splits it,
in each of its forms; ``core.code.script_data`` picks one whole for the project's data.

Grey images read whole take the short split of ``core.portable.lean`` (``npz_data``,
``vision_data``); every other source reads ``raw`` with its own lines (``RAW``, a
placeholder the generator replaces by them) and splits it with ``prepare``. Each form
is a function of its own, so each gives ``raw`` the type its lines do. Whatever the
form's name here, the script calls it ``load_data``.
"""

from __future__ import annotations

import numpy as np

from core.code.templates.script_names import (
    DATA_DIR,
    DATA_FILE,
    IMAGE_SIZE,
    INPUT_SHAPE,
    LOAD,
    NORMALIZE,
    RAW,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
    datasets,
    split,
)
from core.portable.lean import class_numbers, pixels
from core.portable.steps import prepare, resize_crop, resize_images

CROP_RESIZE, CROP_SIZE = 256, 224  # placeholders: the weights' resize and crop sizes


def npz_data() -> list:
    """Inputs and labels of the three splits (train, validation, test)."""
    with np.load(DATA_FILE, allow_pickle=False) as arrays:  # a pickle could run code
        raw = [pixels(arrays["x_train"]), class_numbers(arrays["y_train"]), None, None]
        if "x_test" in arrays and "y_test" in arrays:  # else a test split is made
            raw[2:] = pixels(arrays["x_test"]), class_numbers(arrays["y_test"])
    return split(*raw, VAL_FRACTION, TEST_FRACTION, SEED, INPUT_SHAPE, NORMALIZE)


def vision_data() -> list:
    """Inputs and labels of the three splits (train, validation, test)."""
    try:
        train = datasets.DATASET(DATA_DIR, train=True, download=True)
        test = datasets.DATASET(DATA_DIR, train=False, download=True)
    except RuntimeError:  # no internet: main tells an OSError in words
        fix = f"connect to the internet or put its files in {DATA_DIR}/DATASET/raw"
        raise OSError(f"torchvision could not download DATASET: {fix}") from None
    raw = (train.data / 255.0, train.targets, test.data / 255.0, test.targets)
    return split(*raw, VAL_FRACTION, SEED, INPUT_SHAPE, NORMALIZE)  # its own test split


def prepared_data() -> list:
    """Inputs and labels of the three splits (train, validation, test)."""
    raw = RAW
    data = prepare(
        raw,
        VAL_FRACTION,
        TEST_FRACTION,  # [!given_test]
        SEED,
        NORMALIZE,  # [!tokens]
        INPUT_SHAPE,
    )
    splits = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    return [data[name] for name in splits]


def resized_raw() -> tuple:
    """``RAW`` for images the settings resize: the source's arrays, then their images
    resized (crop: as the pretrained weights' own preprocessing does)."""
    x, y, x_test, y_test, class_names = LOAD
    x = resize_images(x, IMAGE_SIZE)  # [!crop]
    x = resize_crop(x, CROP_RESIZE, CROP_SIZE)  # [crop]
    if x_test is not None:
        x_test = resize_images(x_test, IMAGE_SIZE)  # [!crop]
        x_test = resize_crop(x_test, CROP_RESIZE, CROP_SIZE)  # [crop]
    raw = (x, y, x_test, y_test, class_names)
    return raw
