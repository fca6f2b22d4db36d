"""Datasets: built-in tables and point sets, torchvision downloads and the user's own files.

``load_dataset(spec, ...)`` is the one entry point; see ``core.datasets.spec`` for the spec strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.datasets.base import Dataset, Preview, Progress, finish
from core.datasets.builtin import TITLES, load_points, load_table
from core.datasets.files import load_file
from core.datasets.folder import image_geometry, load_folder
from core.datasets.spec import HELP, DataSpec, parse_spec
from core.datasets.vision import default_data_dir, load_vision

__all__ = [
    "HELP",
    "DataSpec",
    "Dataset",
    "Preview",
    "default_data_dir",
    "image_geometry",
    "load_dataset",
    "load_for_settings",
    "parse_spec",
]


def load_dataset(
    spec: str | DataSpec,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
    test_fraction: float = 0.1,
    normalize: bool = True,
    input_shape: tuple[int, ...] | None = None,
    resize: tuple[int, int] | None = None,
) -> Dataset:
    """Load, check, split (seeded), normalise and shape a dataset; DataError with the fix when it fails."""
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    name = parsed.text
    if parsed.kind == "table":
        raw: Any = load_table(parsed)
        name = TITLES[parsed.name]
    elif parsed.kind == "points":
        raw = load_points(parsed, seed)
    elif parsed.kind == "vision":
        raw = load_vision(parsed, Path(data_dir) if data_dir else None, progress)
    elif parsed.kind == "folder":
        raw = load_folder(
            parsed,
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            normalize=normalize,
            input_shape=input_shape,
            resize=resize,
        )
        if isinstance(raw, Dataset):
            return raw
    else:
        raw = load_file(parsed)
    if progress:
        progress(f"Preparing {name}", None)
    return finish(
        raw,
        parsed,
        name,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        normalize=normalize,
        input_shape=input_shape,
        resize=resize if parsed.kind != "folder" else None,
    )


def load_for_settings(
    settings: Any,
    input_shape: tuple[int, ...] | None,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """The dataset a project's TrainingSettings describe, shaped for its Input node."""
    return load_dataset(
        settings.dataset,
        seed=settings.seed,
        val_fraction=settings.val_fraction,
        data_dir=data_dir,
        progress=progress,
        test_fraction=settings.test_fraction,
        normalize=settings.normalize,
        input_shape=input_shape,
        resize=tuple(settings.resize) if settings.resize else None,
    )
