"""Datasets: built-in tables and point sets, torchvision downloads and the user's own files.

``load_dataset(spec, ...)`` is the one entry point; see ``core.datasets.spec`` for the spec strings.

Importing the package registers every source without importing torch: the editor describes the data
(``core.datasets.info``) after every edit, from its first paint on, and torch costs seconds and ~500 MB. The loaded
``Dataset`` (``core.datasets.base``) holds tensors, so it, ``Preview``, ``Progress`` and ``finish`` are imported
the first time they are asked for; each source module imports its loader's libraries in the functions that load.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pkgutil
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.datasets.fit import weights_crop
from core.datasets.folder import image_geometry
from core.datasets.places import rows_later
from core.datasets.spec import SOURCES, DataSpec, LoadRequest, help_text, parse_spec
from core.datasets.vision import default_data_dir
from core.errors import DataError
from core.settings import Normalization

if TYPE_CHECKING:
    from core.datasets.base import Dataset, Preview, Progress

log = logging.getLogger(__name__)
_QUIET = threading.Lock()  # held by the one load whose warnings are being recorded

# Modules that hold loaded data (tensors) register nothing and import torch: imported when data is loaded.
LOADED_DATA = frozenset({"base", "folder_samples", "shapes_draw"})
for _module in pkgutil.iter_modules(__path__):  # each source module registers its Source entry on import
    if _module.name not in LOADED_DATA:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "HELP",
    "DataSpec",
    "Dataset",
    "Preview",
    "Progress",
    "default_data_dir",
    "image_geometry",
    "load_dataset",
    "load_for_settings",
    "parse_spec",
]


LAZY = ("Dataset", "Preview", "Progress", "finish")  # core.datasets.base's, which imports torch


def __getattr__(name: str) -> Any:
    if name == "HELP":  # read from the registry when asked for
        return help_text()
    if name in LAZY:
        # deferred: core.datasets.base imports torch; the editor describes data without it
        from core.datasets import base

        return getattr(base, name)
    raise AttributeError(name)


def wants_tokens(spec: DataSpec, input_dtype: str | None) -> bool:
    """Whether the source is read as int64 token ids: the Input's dtype decides (None: as the source gives
    them); a source that cannot give what the Input takes is refused with the fix."""
    tokens = SOURCES[spec.kind].tokens
    if input_dtype is None:
        return tokens == "always"
    if input_dtype == "int64":
        if tokens == "never":
            raise DataError(
                f"The Input node takes int64 token ids, but {spec.text} gives decimal numbers: set the Input's "
                "dtype to float32, or choose token data (sequences, or a CSV or .npz file of whole numbers)."
            )
        return True
    if tokens == "always":
        raise DataError(
            f"{spec.text} gives int64 token ids, but the Input node takes {input_dtype}: set the Input's dtype "
            "to int64 and start the network with an Embedding."
        )
    return False


@contextlib.contextmanager
def _quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Library warnings during a load (Pillow's decompression-bomb warning, torch's) are recorded, not printed
    around our one line. ``catch_warnings`` is process-wide and not thread-safe: while one load records, a load in
    another thread (the window's preview while a run starts) leaves the warnings state alone instead of restoring
    the first one's recorder for good."""
    if not _QUIET.acquire(blocking=False):
        yield []
        return
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        _QUIET.release()


def load_dataset(
    spec: str | DataSpec,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
    test_fraction: float = 0.1,
    normalize: Normalization = True,
    input_shape: tuple[int, ...] | None = None,
    resize: tuple[int, int] | None = None,
    input_dtype: str | None = None,
    crop: tuple[int, int] | None = None,
) -> Dataset:
    """Load, check, split (seeded), normalise and shape a dataset; DataError with the fix when it fails.

    ``input_dtype`` is the Input node's: "int64" reads token ids (never normalised), "float32" numbers. ``crop``
    (resize_size, crop_size) resizes and centre-crops images as pretrained weights ask, instead of ``resize``."""
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    source = SOURCES[parsed.kind]
    request = LoadRequest(
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        normalize=normalize,
        input_shape=input_shape,
        resize=resize,
        crop=crop,
        data_dir=Path(data_dir) if data_dir else None,
        progress=progress,
        tokens=wants_tokens(parsed, input_dtype),
    )
    # deferred: core.datasets.base imports torch; the editor describes data without it
    from core.datasets.base import Dataset, finish

    with _quiet() as caught:
        raw = source.load(parsed, request)
        if (parsed.keep_classes or parsed.per_class) and not source.subsets_itself:
            raw = keep_subset(raw, parsed, seed)
        if isinstance(raw, Dataset):
            raw.extra.setdefault("crop", request.crop)
            return raw
        name = source.title(parsed) if source.title else parsed.text
        if progress:
            progress(f"Preparing {name}", None)
        data = finish(
            raw,
            parsed,
            name,
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            normalize=normalize,
            input_shape=input_shape,
            resize=None if source.sizes_itself else resize,
            crop=None if source.sizes_itself else crop,
        )
        data.extra.setdefault("test_rows", rows_later(parsed, raw, seed, test_fraction))  # a callable
        data.extra.setdefault("crop", crop)  # how a new image is brought to the Input (Try it, predict)
    for warning in caught:  # kept for a bug report; what matters to the user is said by the checks
        log.info("while loading %s: %s", parsed.text, warning.message)
    if source.after_load:
        source.after_load(data, parsed)
    return data


def keep_subset(raw: Any, spec: DataSpec, seed: int) -> tuple:
    """The few-shot part of a spec (``:classes=5-9,per_class=20``), applied to the raw tensors before the split."""
    # deferred: core.datasets.base and core.portable.subsets import torch; the editor describes data without it
    from core.datasets.base import Dataset
    from core.portable.subsets import keep_classes

    if isinstance(raw, Dataset):
        raise DataError(
            f"{spec.text}: classes= and per_class= work on data read into memory; this source ("
            f"{SOURCES[spec.kind].help.split(' ')[0]}) is not: leave them out"
        )
    try:
        return keep_classes(raw, list(spec.keep_classes), spec.per_class, seed, spec.text)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise DataError(str(exc)) from None


def load_for_settings(
    settings: Any,
    input_shape: tuple[int, ...] | None,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
    input_dtype: str | None = None,
) -> Dataset:
    """The dataset a project's TrainingSettings describe, shaped (and typed) for its Input node. A pretrained
    network's mean and std are used at its Input's shape; without one (the preview's natural shape, where grey
    images are not yet RGB) the data's own statistics."""
    resize = tuple(settings.resize) if settings.resize else None
    size = resize or (input_shape[1:] if input_shape and len(input_shape) == 3 else ())
    return load_dataset(
        settings.dataset,
        seed=settings.seed,
        val_fraction=settings.val_fraction,
        data_dir=data_dir,
        progress=progress,
        test_fraction=settings.test_fraction,
        normalize=settings.normalization() if input_shape else settings.normalize,
        input_shape=input_shape,
        resize=resize,
        input_dtype=input_dtype,
        crop=weights_crop(settings, size) if size else None,  # resize-then-centre-crop, as torchvision's weights
    )
