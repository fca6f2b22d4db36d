"""Checks on data files that need neither torch nor numpy, pasted verbatim into
exported scripts (core/portable): the editor runs them after an edit without
importing torch."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def check_file(path: str) -> None:
    """Data must be a regular file: reading a FIFO would wait forever."""
    if not Path(path).is_file():
        problem = "not a regular file" if Path(path).exists() else "no such file"
        raise ValueError(f"{path}: {problem}; give the path of the data file itself")


def check_class_folders(root: Path, classes: list, labels: list) -> None:
    """Every class folder must hold images, and there must be two classes at least:
    an empty folder would be a class the network is asked to predict but never sees."""
    if not classes:
        raise ValueError(
            f"{root}: no class sub-folders; put the images of each class in a "
            "sub-folder named after the class (e.g. cats/, dogs/)"
        )
    if not labels:
        raise ValueError(f"{root}: the class sub-folders hold no images")
    held = set(labels)
    empty = [name for k, name in enumerate(classes) if k not in held]
    if empty:
        raise ValueError(
            f"{Path(root) / empty[0]}: no images in this class folder; add images or "
            "remove the folder"
        )
    if len(classes) == 1:
        raise ValueError(
            f"{root}: only one class folder ({classes[0]!r}); a classifier needs at "
            "least two"
        )
