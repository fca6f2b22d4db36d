"""What the network learned: the test set as seen by its last hidden layer, projected to 2-D (PCA at once,
t-SNE on request, both scikit-learn), with each point's class, the prediction and whether it was wrong.

The last hidden layer is what enters the network's last layer with weights (the classifier head): a forward
pre-hook on that module copies its input, flattened, batch by batch. Points keep their index in the split, so a
view can show the sample behind a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from torch import nn

from core.files.project import Project
from core.inspect.nodes import InspectError, module_nodes
from core.model.analysis import analyze
from core.portable.steps import classes_of

METHODS = ("pca", "tsne")
LIMIT = 2000  # points at most (t-SNE takes seconds per thousand on a CPU)
BATCH = 256


@dataclass
class Projection:
    points: np.ndarray  # [n, 2]
    labels: np.ndarray  # [n] the true class (or target value, for regression)
    predicted: np.ndarray  # [n]
    wrong: np.ndarray  # [n] bool: a classification the network got wrong (all False for regression)
    indices: np.ndarray  # [n] each point's index in the split
    method: str  # "PCA" or "t-SNE"
    layer: str  # the node whose input is the last hidden layer's output (the head)
    features: int  # the hidden layer's width
    explained: tuple[float, float] | None = None  # PCA: the variance share of each axis


def head_module(project: Project, model: nn.Module) -> tuple[str, str, nn.Module]:
    """(attribute, node name, module) of the last node with weights: its input is the last hidden layer."""
    nodes = module_nodes(project.graph)
    by_id = {ref.node_id: ref for ref in nodes.values()}
    for node_id in reversed(analyze(project.graph).order):
        ref = by_id.get(node_id)
        if ref is not None:
            module = model.get_submodule(ref.attr)
            if any(True for _ in module.parameters()):
                return ref.attr, ref.name, module
    raise InspectError("The network has no layer with weights, so it has no hidden layer to project.")


def hidden_features(project: Project, model: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, torch.Tensor, str]:
    """The last hidden layer's output for each sample of ``x`` (flattened) and the model's outputs, in eval mode."""
    _, name, head = head_module(project, model)
    kept: list[torch.Tensor] = []

    def keep(module: nn.Module, args: Any) -> None:
        kept.append(args[0].detach().flatten(1).float().cpu())

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    handle = head.register_forward_pre_hook(keep)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), BATCH):
                outputs.append(model(x[start : start + BATCH].to(device)).detach().float().cpu())
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(kept).numpy(), torch.cat(outputs), name


def project_split(
    project: Project,
    model: nn.Module,
    data: Any,
    *,
    split: str = "test",
    method: str = "pca",
    limit: int = LIMIT,
    seed: int = 0,
) -> Projection:
    """Project a split of ``data`` (a core.datasets.Dataset held in memory) from the last hidden layer to 2-D."""
    if method not in METHODS:
        raise InspectError(f"Unknown projection {method!r}: pca or tsne.")
    x, y = getattr(data, f"x_{split}", None), getattr(data, f"y_{split}", None)
    if x is None or y is None or len(x) < 3:
        raise InspectError(f"The {split} split has too few samples in memory to project (at least 3 are needed).")
    indices = np.arange(min(len(x), limit))
    features, outputs, name = hidden_features(project, model, x[: len(indices)])
    labels = y[: len(indices)].cpu().numpy()
    classify = getattr(data, "task", "classification") == "classification"
    if classify:
        predicted = classes_of(outputs, project.training.loss).numpy()
        wrong = predicted != labels
    else:
        predicted = outputs.reshape(len(outputs), -1)[:, 0].numpy()
        wrong = np.zeros(len(indices), dtype=bool)
    explained = None
    if method == "pca":
        pca = PCA(n_components=2, random_state=seed)
        points = pca.fit_transform(features)
        explained = (float(pca.explained_variance_ratio_[0]), float(pca.explained_variance_ratio_[1]))
        label = "PCA"
    else:
        tsne = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, len(indices) - 1.0))
        points = tsne.fit_transform(features)
        label = "t-SNE"
    return Projection(
        points=np.asarray(points, dtype=np.float32),
        labels=labels,
        predicted=predicted,
        wrong=np.asarray(wrong, dtype=bool),
        indices=indices,
        method=label,
        layer=name,
        features=features.shape[1],
        explained=explained,
    )
