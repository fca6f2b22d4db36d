"""A folder of pictures too big for memory, read from disk a batch at a time.

The exported script reads such a folder with these functions (a ``Dataset`` a
``DataLoader`` draws batches from, pasted verbatim), and the app reads it with the
same ones (``core.datasets.folder``), so the split, the normalisation and the
evaluation are the app's to the last digit. Only a batch of pictures is ever in
memory: ImageNet's 1.28 million pictures at 224x224 would take 770 GB as float32.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from core.portable.images import read_image
from core.portable.steps import classes_of, to_target


class ImageFiles(Dataset):
    """Pictures decoded one at a time, when a DataLoader asks for them."""

    def __init__(
        self,
        files: list[tuple[Path, int]],
        size: tuple[int, int],
        channels: int,
        shape: tuple,
        crop: tuple | None = None,  # [crop]
    ) -> None:
        self.files, self.size, self.channels, self.shape = files, size, channels, shape
        self.crop = crop  # [crop]
        self.mean: torch.Tensor | None = None  # set by normalize_splits
        self.std: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.files)

    def raw(self, index: int) -> tuple[torch.Tensor, int]:
        """Picture ``index`` as (channels, height, width) values in 0..1, and its
        class."""
        file, label = self.files[index]
        pixels = read_image(
            file,
            self.size,
            self.channels,
            self.crop,  # [crop]
        )
        x = torch.from_numpy(pixels).float() / 255.0
        return (x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)), label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x, label = self.raw(index)
        if self.mean is not None and self.std is not None:
            x = (x - self.mean[0]) / self.std[0]
        return x.reshape(self.shape), label


def split_files(
    files: list, val_fraction: float, test_fraction: float, seed: int
) -> list[list]:
    """The files of the training, validation and test splits: a seeded shuffle, the
    test pictures first, then the validation ones."""
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed))
    n_test, n_val = round(len(files) * test_fraction), round(len(files) * val_fraction)
    parts = order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]
    return [[files[i] for i in part.tolist()] for part in parts]


def normalize_splits(splits: list, normalize) -> None:
    # [fixed]
    """Every split normalised alike with a pretrained network's own (mean, std) per
    channel: its weights expect the statistics of the pictures they learnt from, not
    those of the new ones. Anything but a (mean, std) pair leaves the pictures as they
    are."""
    # [!fixed]
    """Every split normalised alike with the mean and std per channel of the training
    pictures (at most 500 of them, evenly spaced: reading them all would take an
    epoch); a false normalize leaves the pictures as they are."""
    if isinstance(normalize, (tuple, list)):  # [fixed]
        mean, std = (torch.tensor(v).reshape(1, -1, 1, 1) for v in normalize)
        for split in splits:
            split.mean, split.std = mean, std
        return  # the app's: below, the training pictures' statistics  # [app]
    if not normalize:  # [!fixed]
        return
    train = splits[0]  # [!fixed]
    every = max(1, math.ceil(len(train) / 500))  # [!fixed]
    # [!fixed]
    picks = torch.stack([train.raw(i)[0] for i in range(0, len(train), every)])
    mean = picks.mean(dim=(0, 2, 3), keepdim=True)  # [!fixed]
    std = picks.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)  # [!fixed]
    for split in splits:  # [!fixed]
        split.mean, split.std = mean, std


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: DataLoader,
    loss_fn: nn.Module,
    loss_name: str,
    device: torch.device,
) -> tuple:
    """Mean loss and accuracy over a split read from disk batch by batch, in eval
    mode (no dropout)."""
    model.eval()
    if len(batches) == 0:  # a split without samples
        return float("nan"), float("nan")
    total, correct, seen = 0.0, 0, 0
    kept = []  # predictions and labels: the app's confusion matrix  # [app]
    for inputs, labels in batches:
        inputs, labels = inputs.to(device), labels.to(device)
        outputs = model(inputs)
        loss = loss_fn(outputs, to_target(outputs, labels, loss_name))
        predicted = classes_of(outputs, loss_name)
        total += loss.item() * len(labels)
        correct += int((predicted == labels).sum())
        seen += len(labels)
        kept.append((predicted, labels))  # [app]
    return total / seen, correct / seen, kept  # [app]
    return total / seen, correct / seen  # [!app]
