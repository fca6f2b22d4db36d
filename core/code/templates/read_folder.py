"""How the generated script reads a folder of pictures, one sub-folder per class: each
picture decoded at the Input's size (``core.code.script_data`` pastes the body into
``load_data`` as ``raw = ...``). ``# [crop]``: pretrained weights' own preprocessing,
the short side resized, then the centre square (``RESIZE_CROP``).
"""

from __future__ import annotations

from core.portable.images import load_image_folder

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
