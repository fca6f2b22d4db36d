"""A stand-in for a torchvision weights entry that needs no network: torchvision's own ``Weights`` whose url is a
file:// URL of a real state_dict (a seeded, randomly initialised torchvision network) named as torch.hub names
weights (``<name>-<first 8 hex digits of its SHA-256>.pth``), so ``get_state_dict`` really downloads it."""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torchvision
from torchvision.models._api import Weights, WeightsEnum
from torchvision.transforms._presets import ImageClassification


def served_weights(folder: Path, name: str = "resnet18", seed: int = 0) -> Any:
    """A weights enum member for torchvision's ``name`` served from ``folder`` (its file written there)."""
    torch.manual_seed(seed)
    model = torchvision.models.get_model(name, weights=None)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "raw.pth"
    torch.save(model.state_dict(), raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    path = folder / f"{name}-{digest[:8]}.pth"
    raw.rename(path)
    meta = {"categories": [f"class {i}" for i in range(1000)], "_metrics": {"ImageNet-1K": {"acc@1": 1.0}}}
    enum = WeightsEnum(
        f"{name}_TestWeights", {"V1": Weights(path.as_uri(), partial(ImageClassification, crop_size=224), meta)}
    )
    return enum.V1  # type: ignore[attr-defined]
