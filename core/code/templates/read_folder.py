"""How the generated script reads a folder of pictures, one sub-folder per class: each
picture decoded at the Input's size. ``folder``: all of them into one tensor, for a
folder that fits in memory (``core.code.script_data`` pastes the body into
``load_data`` as ``raw = ...``); ``images``: a Dataset per split that reads each picture
when a batch needs it, for a folder too big for memory (the body is ``load_data``'s
whole; ``main`` makes the DataLoaders). ``# [crop]``: pretrained weights' own
preprocessing, the short side resized, then the centre square (``RESIZE_CROP``).
"""

from __future__ import annotations

from core.code.templates.script_names import (
    INPUT_SHAPE,
    NORMALIZE,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
)
from core.portable.image_stream import ImageFiles, normalize_splits, split_files
from core.portable.images import image_files, load_image_folder

# the script's constants (core.datasets.folder writes them)
IMAGE_FOLDER = "photos"
RESIZE_CROP = (256, 224)
# placeholders: the Input's size and channels, written as Python literals
SIZE, CHANNELS = (28, 28), 1


def folder() -> tuple:
    """Every picture of IMAGE_FOLDER at SIZE with CHANNELS; a sub-folder is a class."""
    return load_image_folder(
        IMAGE_FOLDER,
        SIZE,
        CHANNELS,
        RESIZE_CROP,  # [crop]
    )


def images() -> list:
    """The training, validation and test pictures, each read from disk when a batch
    needs it: the whole folder would not fit in memory."""
    files, _ = image_files(IMAGE_FOLDER)
    splits = [  # [!crop]
        ImageFiles(part, SIZE, CHANNELS, INPUT_SHAPE)
        for part in split_files(files, VAL_FRACTION, TEST_FRACTION, SEED)
    ]
    # [crop]
    splits = [
        ImageFiles(part, SIZE, CHANNELS, INPUT_SHAPE, RESIZE_CROP)
        for part in split_files(files, VAL_FRACTION, TEST_FRACTION, SEED)
    ]
    normalize_splits(splits, NORMALIZE)
    return splits
