"""A class loss's ``evaluate`` over a DataLoader's batches, pasted into the script of an
image folder too big for memory.

The short variant of ``image_stream.evaluate`` (which the app runs, for every loss): the
labels are class numbers the loss takes as they are and the predicted class is the
largest output, so the script needs no loss name, ``to_target`` or ``classes_of``. It is
named ``evaluate`` as the script calls it, apart from ``lean.evaluate`` (a split in
memory); the 1e-6 tests between the app and the exported script hold the two to it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader


@torch.no_grad()
def evaluate(
    model: nn.Module, batches: DataLoader, loss_fn: nn.Module, device: torch.device
) -> tuple:
    """Mean loss and accuracy over a split read from disk batch by batch, in eval
    mode (no dropout)."""
    model.eval()
    if len(batches) == 0:  # a split without samples
        return float("nan"), float("nan")
    total, correct, seen = 0.0, 0, 0
    for inputs, labels in batches:
        inputs, labels = inputs.to(device), labels.to(device)
        outputs = model(inputs)
        total += loss_fn(outputs, labels).item() * len(labels)
        correct += int((outputs.argmax(1) == labels).sum())
        seen += len(labels)
    return total / seen, correct / seen
