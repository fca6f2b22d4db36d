"""Feeding the loop and judging the result: batches (index slicing on pre-loaded tensors, or a DataLoader
for big image folders), evaluation of a split, the check that the network fits the data, and the report."""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Iterator
from typing import Any

import torch

from core.code.script import eval_batch_size
from core.datasets import Dataset
from core.errors import TrainingError, out_of_memory_message
from core.model.graph import Graph
from core.model.shape_rules import fmt
from core.portable.image_stream import evaluate as evaluate_batches
from core.portable.steps import evaluate, shuffled_batches
from core.settings import TrainingSettings
from core.training.events import TrainResult

CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")


class Batches:
    """One epoch of training batches at a time, in the order a seeded generator draws."""

    def __init__(
        self,
        data: Dataset,
        tensors: dict[str, torch.Tensor],
        settings: TrainingSettings,
        shuffle: torch.Generator,
        device: torch.device,
    ) -> None:
        self.data, self.tensors, self.settings, self.shuffle, self.device = data, tensors, settings, shuffle, device
        self.loader: Any = None
        if not data.in_memory:  # the exported script's DataLoader: the same order from the same generator
            self.loader = make_loader(data.train_set, settings.batch_size, device, shuffle=shuffle)

    def epoch(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.loader is not None:
            for inputs, labels in self.loader:
                yield inputs.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)
            return
        yield from shuffled_batches(
            self.tensors["x_train"], self.tensors["y_train"], self.settings.batch_size, self.shuffle
        )


def make_loader(
    dataset: Any, batch_size: int, device: torch.device, shuffle: torch.Generator | None = None
) -> torch.utils.data.DataLoader:
    """A DataLoader with a few worker processes, for data that is read from disk sample by sample; shuffled by
    ``shuffle`` as the exported script's is (``core/code/templates/main.py``). Its workers are not kept between
    epochs, as the script's are not: a loader that keeps them draws its seed from the generator once, not every
    epoch, and the order of the second epoch on would differ from the script's."""
    workers = max(0, min(4, (os.cpu_count() or 1) - 1))
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle is not None,
        generator=shuffle,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )


def evaluate_split(
    model: torch.nn.Module,
    data: Dataset,
    split: str,
    tensors: dict[str, torch.Tensor],
    loss_fn: torch.nn.Module,
    settings: TrainingSettings,
    device: torch.device,
    keep: bool = False,
) -> tuple[Any, ...]:
    """Mean loss and accuracy over a split (plus predictions and labels on the CPU when keep)."""
    size = eval_batch_size(settings)
    if data.count(split) == 0:
        empty = torch.zeros(0, dtype=torch.int64)
        return (math.nan, math.nan, empty, empty) if keep else (math.nan, math.nan)
    if data.in_memory:
        x: torch.Tensor | None = tensors.get(f"x_{split}")
        y: torch.Tensor | None = tensors.get(f"y_{split}")
        if x is None or y is None:
            x, y = getattr(data, f"x_{split}").to(device), getattr(data, f"y_{split}").to(device)
        assert x is not None and y is not None
        loss, accuracy, predictions = evaluate(model, x, y, loss_fn, settings.loss, size)
        labels = y
    else:  # the exported script's evaluate of a big image folder, with the predictions it keeps for the app
        batches = make_loader(getattr(data, f"{split}_set"), size, device)
        loss, accuracy, kept = evaluate_batches(model, batches, loss_fn, settings.loss, device)
        predictions, labels = (torch.cat(part) for part in zip(*kept, strict=True))
    if keep:
        return loss, accuracy, predictions.cpu(), labels.cpu()
    return loss, accuracy


def check_fit(outputs: list[Any], data: Dataset, loss: str) -> None:
    """Refuse, in plain words, a network whose output cannot be compared with the data's labels."""
    if len(outputs) != 1:
        raise TrainingError(f"Training needs exactly one Output node; this network has {len(outputs)}.")
    shape = outputs[0]
    classes = data.num_classes
    if data.task == "regression":
        if loss in CLASS_LOSSES:
            raise TrainingError(
                f"{data.name} has numeric targets (regression), but {loss} needs class labels: "
                "choose MSELoss, L1Loss or SmoothL1Loss."
            )
        if shape is None or math.prod(shape[1:]) != 1:
            raise TrainingError(
                f"The network outputs {fmt(shape)} per batch but {data.name} has one number per sample: "
                "make the last Linear layer's out_features 1."
            )
        return
    if shape is None or len(shape) != 2:
        raise TrainingError(
            f"The network's output has shape {fmt(shape)}; to classify {classes} classes it must be "
            f"[N, {classes}]: end with Flatten and a Linear layer with out_features={classes}."
        )
    features = shape[1]
    if loss in CLASS_LOSSES:
        if features < classes:
            raise TrainingError(
                f"The network outputs {features} values per sample but {data.name} has {classes} classes: "
                f"set the last Linear layer's out_features to {classes}."
            )
    elif features != classes and not (features == 1 and classes == 2):
        raise TrainingError(
            f"With {loss} the network needs one output per class ({classes}) or a single output for two "
            f"classes, but it outputs {features}: set the last Linear layer's out_features to {classes}."
        )


def report(result: TrainResult, predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    """Confusion matrix (rows: true class, columns: predicted), per-class accuracy, misclassified indices."""
    k = max(num_classes, 2 if num_classes == 1 else num_classes)
    predictions = predictions.clamp(0, k - 1)
    confusion = torch.bincount(labels * k + predictions, minlength=k * k).reshape(k, k)
    result.confusion = confusion.tolist()
    totals = confusion.sum(1)
    result.per_class_accuracy = [float(confusion[i, i]) / float(totals[i]) if totals[i] else math.nan for i in range(k)]
    result.misclassified = (predictions != labels).nonzero().flatten().tolist()


def explain_runtime_error(exc: BaseException, filename: str, line_to_node: dict[int, str], graph: Graph) -> str:
    """Point at the node whose generated line raised, instead of showing a raw traceback."""
    node_id = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename and frame.lineno in line_to_node:
            node_id = line_to_node[frame.lineno]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    node = graph.node(node_id) if node_id is not None and node_id in graph else None
    memory = out_of_memory_message(exc, f"{node.name} ({node.type})" if node is not None else "")
    if memory:  # the allocator's text ("DefaultCPUAllocator: can't allocate memory ...") in plain words
        return memory
    if node is not None:
        return (
            f"{node.name} ({node.type}) failed while training: {first}. Check its settings and the shapes "
            "shown in the editor."
        )
    return f"Training failed: {first}"
