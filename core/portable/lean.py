"""Short variants of the script's helpers, pasted when the project allows them.

A beginner reads the exported script whole, so a helper that serves every
dataset, loss and process count gives way to one that serves this project,
chosen when the script is generated (``core.code.script``): grey images (an
``.npz`` file, torchvision's MNIST family) get a split without the NHWC,
token or byte-order branches; a class loss an ``evaluate`` that takes the
largest output; one process batches without the torchrun shard. Each gives
what the general helper in ``steps``/``sources`` gives for the same data (the
1e-6 tests between the app and the exported script hold them to it).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def pixels(a: np.ndarray) -> torch.Tensor:
    """Pixels as float32 in [0, 1]: uint8 ones are divided by 255."""
    return torch.from_numpy(a).float() / (255.0 if a.dtype == np.uint8 else 1.0)


def class_numbers(a: np.ndarray) -> torch.Tensor:
    """Class numbers 0, 1, 2, ... as int64, one a sample."""
    return torch.from_numpy(a.reshape(-1).astype(np.int64))


def split(
    x,
    y,
    x_test,
    y_test,
    val_fraction,
    test_fraction,  # [!given_test]
    seed,
    shape,
    normalize,
):
    """Shaped for the network, split with the seed, normalised by the train split."""
    x = x.reshape(len(x), *shape)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = 0 if x_test is not None else round(len(x) * test_fraction)  # [!given_test]
    n_val = round(len(x) * val_fraction)
    if x_test is None:  # [!given_test]
        x_test, y_test = x[order[:n_test]], y[order[:n_test]]
    # [!given_test]
    val, train = order[n_test : n_test + n_val], order[n_test + n_val :]
    val, train = order[:n_val], order[n_val:]  # [given_test]
    xs = [x[train], x[val], x_test.reshape(len(x_test), *shape)]
    if normalize:
        mean = xs[0].mean(dim=(0, 2, 3), keepdim=True)
        std = xs[0].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        xs = [(x - mean) / std for x in xs]
    return [xs[0], y[train], xs[1], y[val], xs[2], y_test]


@torch.no_grad()
def evaluate(model: nn.Module, x, y, loss_fn: nn.Module, batch_size: int) -> tuple:
    """Mean loss and accuracy over a whole split, in eval mode (no dropout)."""
    model.eval()
    total, correct, n = 0.0, 0, len(x)
    for inputs, labels in zip(x.split(batch_size), y.split(batch_size)):
        outputs = model(inputs)
        total += loss_fn(outputs, labels).item() * len(labels)
        correct += int((outputs.argmax(1) == labels).sum())
    return (total / n, correct / n) if n else (float("nan"), float("nan"))  # no samples
