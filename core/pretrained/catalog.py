"""torchvision's classifiers with ImageNet weights, read from their weights enums (``ResNet18_Weights`` ...): what
the gallery lists and the CLI names. Nothing here is typed in: a new torchvision brings its new networks. Which
weights a downloaded file is, which code and datasets ask too, is ``core.hub_files``' (a floor below them)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch.hub
import torchvision
from torchvision.models import get_model_weights, list_models


@dataclass(frozen=True)
class PretrainedEntry:
    name: str  # torchvision's model name: "resnet18"
    weights: str  # the default weights: "ResNet18_Weights.IMAGENET1K_V1"
    url: str
    acc1: float | None  # ImageNet-1K top-1 accuracy in %, as torchvision measured it
    acc5: float | None
    file_mb: float | None  # the download's size in MB
    num_params: int | None
    crop_size: int  # the network's input: crop_size x crop_size RGB images
    resize_size: int  # what the image's short side is resized to before the centre crop
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: int  # ImageNet's 1000

    @property
    def input_shape(self) -> list[int]:
        return [3, self.crop_size, self.crop_size]

    def label(self) -> str:
        """One line for a list: "resnet18 — 69.8 % ImageNet top-1, 44.7 MB, 11.7 M parameters, 224x224 input"."""
        parts = [f"{self.acc1:.1f} % ImageNet top-1" if self.acc1 is not None else "accuracy not given"]
        if self.file_mb is not None:
            parts.append(f"{self.file_mb:.1f} MB")
        if self.num_params is not None:
            parts.append(f"{self.num_params / 1e6:.1f} M parameters")
        parts.append(f"{self.crop_size}x{self.crop_size} input")
        return f"{self.name} — {', '.join(parts)}"


def _first(value: Any, default: int) -> int:
    """A transforms size given as 224 or [224]."""
    if isinstance(value, list | tuple):
        return int(value[0]) if value else default
    return int(value) if value is not None else default


def entry_of(name: str, weights: Any) -> PretrainedEntry:
    """The entry for one weights enum member (``weights.meta`` and what ``weights.transforms()`` does)."""
    meta = weights.meta
    metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
    preset = weights.transforms()  # torchvision's own preprocessing (ImageClassification): sizes, mean and std
    crop = _first(getattr(preset, "crop_size", None), 224)
    return PretrainedEntry(
        name=name,
        weights=f"{type(weights).__name__}.{weights.name}",
        url=weights.url,
        acc1=metrics.get("acc@1"),
        acc5=metrics.get("acc@5"),
        file_mb=meta.get("_file_size"),
        num_params=meta.get("num_params"),
        crop_size=crop,
        resize_size=_first(getattr(preset, "resize_size", None), crop),
        mean=tuple(getattr(preset, "mean", (0.485, 0.456, 0.406))),
        std=tuple(getattr(preset, "std", (0.229, 0.224, 0.225))),
        classes=len(meta.get("categories") or []) or 1000,
    )


@functools.lru_cache(maxsize=1)
def pretrained_classifiers() -> tuple[PretrainedEntry, ...]:
    """Every torchvision classifier that has ImageNet weights, with its default weights, by name."""
    found = []
    for name in list_models(module=torchvision.models):
        try:
            weights = get_model_weights(name).DEFAULT  # type: ignore[attr-defined]
        except (ValueError, AttributeError, KeyError):
            continue  # a classifier without published weights
        found.append(entry_of(name, weights))
    return tuple(sorted(found, key=lambda e: e.name))


def find_entry(name: str) -> PretrainedEntry | None:
    return next((e for e in pretrained_classifiers() if e.name == name), None)


def weights_member(name: str) -> Any:
    """The torchvision weights enum member of ``name``'s default weights."""
    return get_model_weights(name).DEFAULT  # type: ignore[attr-defined]


def cache_dir() -> Path:
    """Where torch keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints`` (torch.hub's own rule)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cache_path(url: str) -> Path:
    """The exact file torch.hub reads for ``url``: the cache folder and the URL's file name."""
    return cache_dir() / os.path.basename(urlparse(url).path)
