"""The one dataset abstraction the trainer, the CLI and the dashboard use.

Raw loaders (core.portable.sources) give tensors; ``finish`` checks them, splits them with the seed,
normalises them and reshapes every sample to the network's Input shape, through the same
``core.portable.steps.prepare`` the exported script calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core.datasets.fit import fitted_sample
from core.datasets.spec import DataSpec
from core.errors import DataError
from core.portable.steps import prepare, resize_crop, resize_images
from core.settings import Normalization

Progress = Callable[[str, float | None], None]  # (message, fraction done or None)


@dataclass
class Preview:
    """A few training samples (as loaded, before normalisation) and the numbers around them."""

    samples: np.ndarray
    labels: list[int]
    class_names: list[str]
    counts: dict[str, int]
    input_shape: tuple[int, ...]


@dataclass
class Dataset:
    """Train/validation/test splits, in memory as tensors (``x_train`` ...), or as ``*_set`` torch
    datasets for big image folders, which the trainer then reads through a DataLoader."""

    name: str
    spec: DataSpec
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    task: str = "classification"  # or "regression"
    is_2d: bool = False
    x_train: torch.Tensor | None = None
    y_train: torch.Tensor | None = None
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None
    sample_shape: tuple[int, ...] = ()  # one sample as loaded, before the reshape to input_shape
    train_set: Any = None  # torch Dataset (lazy image folders only)
    val_set: Any = None
    test_set: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    input_dtype: str = "float32"  # "int64": token ids for an Embedding (never normalised)
    vocab_size: int | None = None  # token data: largest token id + 1 (an Embedding needs that many rows)

    @property
    def in_memory(self) -> bool:
        return self.x_train is not None

    def count(self, split: str) -> int:
        tensor = getattr(self, f"x_{split}")
        if tensor is not None:
            return len(tensor)
        held = getattr(self, f"{split}_set")
        return len(held) if held is not None else 0

    def preview(self, k: int = 16) -> Preview:
        """The first k training samples, un-normalised, in their natural shape (for pictures)."""
        counts = {split: self.count(split) for split in ("train", "val", "test")}
        if self.x_train is not None and self.y_train is not None:
            x, y = self.x_train[:k].cpu(), self.y_train[:k].cpu()
            x = x.reshape(len(x), *self.sample_shape)
            if self.mean is not None and self.std is not None:
                x = x * self.std.cpu() + self.mean.cpu()
        else:
            items = [self.train_set.raw(i) for i in range(min(k, len(self.train_set)))]
            x = torch.stack([item[0] for item in items]) if items else torch.zeros(0, *self.sample_shape)
            y = torch.tensor([item[1] for item in items], dtype=torch.int64)
        labels = [int(v) for v in y.tolist()] if self.task == "classification" else []
        return Preview(x.numpy(), labels, list(self.class_names), counts, self.input_shape)


def check_labels(y: torch.Tensor, num_classes: int | None, where: str) -> None:
    """Labels must fit the class list; a label 10 in a 10-class set is a common slip."""
    if y.dtype != torch.int64 or not len(y) or num_classes is None:
        return
    bad = ((y < 0) | (y >= num_classes)).nonzero()
    if len(bad):
        index = int(bad[0])
        raise DataError(
            f"{where}: label {int(y[index])} at sample {index} is out of range: this dataset has "
            f"{num_classes} classes, so labels must be 0 to {num_classes - 1}. Fix the label, or number "
            "the classes from 0."
        )


def fit_shape(sample_shape: tuple[int, ...], input_shape: tuple[int, ...] | None, name: str) -> tuple[int, ...]:
    """The shape samples are reshaped to: the Input node's when it holds the same number of values."""
    if input_shape is None:
        return sample_shape
    if math.prod(sample_shape) != math.prod(input_shape):
        raise DataError(
            f"The samples of {name} have shape {list(sample_shape)} ({math.prod(sample_shape)} values) but the "
            f"Input node expects {list(input_shape)} ({math.prod(input_shape)} values). Set the Input shape to "
            f"{list(sample_shape)}, or choose a dataset that fits the network."
        )
    return tuple(input_shape)


def finish(
    raw: tuple,
    spec: DataSpec,
    name: str,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    normalize: Normalization,
    input_shape: tuple[int, ...] | None,
    resize: tuple[int, int] | None = None,
    crop: tuple[int, int] | None = None,
) -> Dataset:
    """Check, split, normalise and reshape raw loader output into a Dataset; images are resized to ``resize``, or
    with ``crop`` (resize_size, crop_size) resized and centre-cropped as pretrained weights ask."""
    x, y, x_test, y_test, class_names = raw
    tokens = not x.is_floating_point()
    if (resize or crop) and x.dim() == 4 and not tokens:
        size = tuple(resize or ())
        x = resize_crop(x, *crop) if crop else resize_images(x, size)
        if x_test is not None:
            x_test = resize_crop(x_test, *crop) if crop else resize_images(x_test, size)
        raw = (x, y, x_test, y_test, class_names)
    num_classes = _check_samples(x, y, x_test, y_test, class_names, name)
    sample = fitted_sample(tuple(x.shape[1:]), input_shape) if input_shape else tuple(x.shape[1:])  # grey -> RGB
    shape = fit_shape(sample, input_shape, name)
    data = prepare(raw, val_fraction, test_fraction, seed, normalize, shape)
    return _as_dataset(raw, data, spec, name, shape, num_classes)


def _check_samples(
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor | None,
    y_test: torch.Tensor | None,
    class_names: list[str],
    name: str,
) -> int:
    """The number of classes (1 for regression), once the samples, labels and test split are known to fit
    together: each mistake is named here, before splitting hides which sample it was."""
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} samples but {len(y)} labels; every sample needs exactly one label.")
    if len(x) < 3:
        raise DataError(f"{name}: only {len(x)} samples; at least a handful are needed to train.")
    regression = y.dtype.is_floating_point
    num_classes = 1 if regression else max(len(class_names), int(y.max()) + 1)
    if not regression:
        check_labels(y, len(class_names) or None, name)
        if y_test is not None:
            check_labels(y_test, num_classes, f"{name} (test split)")
    sample_shape = tuple(x.shape[1:])
    if x_test is not None and tuple(x_test.shape[1:]) != sample_shape:
        raise DataError(
            f"{name}: the test samples have shape {list(x_test.shape[1:])} but the training samples "
            f"{list(sample_shape)}; both must have the same shape."
        )
    return num_classes


def _as_dataset(
    raw: tuple, data: dict[str, Any], spec: DataSpec, name: str, shape: tuple[int, ...], num_classes: int
) -> Dataset:
    """The prepared splits with what the trainer, the preview and the code generator need to know about them."""
    x, y, x_test, _, class_names = raw
    tokens = not x.is_floating_point()
    regression = y.dtype.is_floating_point
    sample_shape = tuple(x.shape[1:])
    names = list(class_names) if class_names else [str(k) for k in range(num_classes)]
    if regression:
        names = []
    return Dataset(
        name=name,
        spec=spec,
        input_shape=shape,
        num_classes=num_classes,
        class_names=names,
        task="regression" if regression else "classification",
        is_2d=sample_shape == (2,) and not tokens,  # point sets to plot; token pairs are no points
        x_train=data["x_train"],
        y_train=data["y_train"],
        x_val=data["x_val"],
        y_val=data["y_val"],
        x_test=data["x_test"],
        y_test=data["y_test"],
        mean=data["mean"],
        std=data["std"],
        sample_shape=sample_shape,
        input_dtype="int64" if tokens else "float32",
        vocab_size=max((int(t.max()) + 1 for t in (x, x_test) if t is not None and t.numel()), default=0)
        if tokens
        else None,
    )
