"""The example's data preview without torch or scikit-learn: an idle window holds ~800 MB less.

The window shows a few samples of the training split as soon as a project opens; for the built-in ``digits``
(the example's data) it reads scikit-learn's bundled file with NumPy and draws the split as ``torch.randperm``
does (same generator, same shuffle), so the preview shows the very samples the run trains on. Training, Try it
and the other views load the full ``Dataset`` (tensors) when they need it.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.spec import DataSpec, parse_spec

DIGITS_TITLE = "Digits (8x8 handwritten, scikit-learn)"


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` in NumPy, sample for sample.

    torch's CPU generator is a Mersenne Twister seeded as NumPy's legacy ``RandomState`` is (the seed's low 32
    bits), and for n below 2**32 / 20 randperm swaps item i with item i + (next 32-bit draw % (n - i))."""
    if n >= 2**32 // 20:
        raise ValueError("too many samples for the NumPy copy of torch.randperm")
    draws = np.random.RandomState(seed % 2**32).randint(0, 2**32, size=max(n - 1, 0), dtype=np.uint64)
    order = np.arange(n, dtype=np.int64)
    for i, draw in enumerate(draws.tolist()):
        j = i + draw % (n - i)
        order[i], order[j] = order[j], order[i]
    return order


def sklearn_data_file(name: str) -> Path:
    """A file scikit-learn ships in ``sklearn/datasets/data``, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-learn is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``load_digits``: the (1797, 8, 8) images (0 to 16) and their labels, read as it reads them."""
    with gzip.open(sklearn_data_file("digits.csv.gz"), "rt", encoding="ascii") as handle:
        table = np.loadtxt(handle, delimiter=",")
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(int)


@dataclass
class LightPreview:
    """What ``Dataset.preview`` gives (``core.datasets.base.Preview``), in NumPy."""

    samples: np.ndarray
    labels: list[int]
    class_names: list[str]
    counts: dict[str, int]
    input_shape: tuple[int, ...]


@dataclass
class LightDataset:
    """The part of a ``Dataset`` the preview reads: its name, shapes, classes, split sizes and first training
    samples. ``light`` tells views that need tensors to load the full one."""

    name: str
    spec: DataSpec
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    first: LightPreview
    task: str = "classification"
    is_2d: bool = False
    x_train: Any = None
    sample_shape: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    light: bool = True

    def count(self, split: str) -> int:
        return self.first.counts.get(split, 0)

    def preview(self, k: int = 16) -> LightPreview:
        first = self.first
        return LightPreview(
            first.samples[:k], first.labels[:k], list(first.class_names), dict(first.counts), first.input_shape
        )


def light_preview(settings: Any, k: int = 16) -> LightDataset | None:
    """The preview of ``settings``' dataset without torch when this module can draw it (the built-in digits, not
    resized), else None: the caller loads the full dataset."""
    if settings.dataset != "digits" or settings.resize:
        return None
    try:
        images, labels = load_digits_arrays()
    except (OSError, ValueError):  # no scikit-learn, or an unexpected file: the full loader says why
        return None
    n = len(images)
    order = torch_randperm(n, int(settings.seed))
    n_test, n_val = round(n * settings.test_fraction), round(n * settings.val_fraction)
    train = order[n_test + n_val :][:k]
    shape = (1, 8, 8)
    names = [str(i) for i in range(10)]
    counts = {"train": n - n_test - n_val, "val": n_val, "test": n_test}
    samples = (images[train] / 16.0).astype(np.float32).reshape(len(train), *shape)
    first = LightPreview(samples, [int(v) for v in labels[train]], names, counts, shape)
    return LightDataset(DIGITS_TITLE, parse_spec("digits"), shape, 10, names, first, sample_shape=shape)
