"""The data fits the network: images resized and made RGB for a pretrained network, normalised as its weights were.

A network that starts from weights (a torchvision classifier pretrained on ImageNet, an earlier run) cannot change
its Input: the weights expect 3x224x224 colour images standardised with ImageNet's mean and std. The data must
come to it instead: ``training.resize`` to the Input's size, grey images repeated in three channels (``prepare``
does that when the Input takes [3, H, W] and the images are [1, H, W]; colour ones are turned grey the other way)
and ``training.mean``/``std`` set to the weights' own statistics instead of the data's. ``data_fit`` says so in
words with the settings that do it, which the task check reports and the window applies in one undo step;
``weights_statistics`` reads the mean and std from torchvision's ``weights.transforms()`` (only when asked: it
imports torchvision).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from core.datasets.info import DataInfo, loaded_shape
from core.hub_files import weights_for_file
from core.settings import TrainingSettings


@dataclass(frozen=True)
class DataFit:
    """What to change in the training settings so the data fits the network, and why in words."""

    message: str
    changes: dict[str, Any] = field(default_factory=dict)  # TrainingSettings fields and their new values


def grey_into_rgb(sample: tuple[int, ...], input_shape: tuple[int, ...]) -> bool:
    """Whether ``prepare`` repeats these grey images in three channels for this Input ([1, H, W] -> [3, H, W])."""
    return len(sample) == 3 and sample[0] == 1 and tuple(input_shape) == (3, *sample[1:])


def rgb_into_grey(sample: tuple[int, ...], input_shape: tuple[int, ...]) -> bool:
    """Whether ``prepare`` turns these colour images grey for this Input ([3, H, W] -> [1, H, W])."""
    return len(sample) == 3 and sample[0] == 3 and tuple(input_shape) == (1, *sample[1:])


def fitted_sample(sample: tuple[int, ...], input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One sample's shape as the network gets it, after ``prepare`` made grey images RGB or colour ones grey."""
    if grey_into_rgb(sample, input_shape):
        return (3, *sample[1:])
    return (1, *sample[1:]) if rgb_into_grey(sample, input_shape) else tuple(sample)


def starts_from_weights(training: TrainingSettings) -> bool:
    """A network whose Input is fixed by its starting weights (pretrained, imported or an earlier run's)."""
    return bool(training.initial_weights) or training.fine_tune


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def data_fit(info: DataInfo, input_shape: tuple[int, ...], training: TrainingSettings) -> DataFit | None:
    """The resize (and RGB) that make ``info``'s images fit an image Input fixed by its starting weights; None
    when they fit already, when the data are no images, or when the network could change its Input instead."""
    if not starts_from_weights(training) or info.adapts_to_input:  # a folder is decoded at the Input's size
        return None
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        return None
    loaded = loaded_shape(info, input_shape, tuple(training.resize))
    natural = info.sample_shape
    if loaded is None or natural is None or len(loaded) != 3 or loaded[0] not in (1, 3):
        return None
    if fitted_sample(loaded, input_shape) == tuple(input_shape):
        return None
    size = [int(input_shape[1]), int(input_shape[2])]
    steps = [f"resize to {size[0]}x{size[1]}"] if list(loaded[1:]) != size else []
    if loaded[0] == 1 and input_shape[0] == 3:
        steps.append("convert to RGB")
    elif loaded[0] == 3 and input_shape[0] == 1:
        steps.append("convert to grey")
    message = (
        f"This network expects {_dims(input_shape)} images; your images ({info.name}) are {_dims(natural)}: "
        f"{' and '.join(steps)}"
    )
    return DataFit(message, {"resize": size} if list(training.resize) != size else {})


def fit_changes(info: DataInfo | None, input_shape: tuple[int, ...], training: TrainingSettings) -> DataFit | None:
    """``data_fit`` plus the weights' own mean and std (when the starting weights are torchvision's and the data
    still uses its own): every setting the one-click fix applies. Imports torchvision for the statistics."""
    fit = data_fit(info, input_shape, training) if info is not None else None
    changes = dict(fit.changes) if fit else {}
    stats = weights_statistics(training.initial_weights) if training.initial_weights else None
    if stats is not None and len(input_shape) == 3 and input_shape[0] == len(stats[0]):
        mean, std = stats
        if list(training.mean) != mean or list(training.std) != std:
            changes.update(mean=mean, std=std)
        if not training.normalize:
            changes["normalize"] = True
    if not changes:
        return None
    words = fit.message if fit else "Normalise with the weights' own mean and std"
    crop = weights_crop(training, tuple(fit.changes["resize"])) if fit and "resize" in fit.changes else None
    if crop:  # said where it is done: the check's words stay cheap (they import no torchvision)
        words += f" (the short side to {crop[0]}, then the centre {crop[1]}x{crop[1]}, as the weights' own transforms)"
    if fit and "mean" in changes:
        words += ", and normalise with the weights' own mean and std"
    return DataFit(words, changes)


@functools.lru_cache(maxsize=16)
def _preset(path: str) -> Any:
    """torchvision's ``transforms()`` (an ImageClassification) for the weights ``path`` is the download of; None
    for another file or without torchvision."""
    try:
        # deferred: imports torchvision; the editor describes data without it
        from torchvision.models import get_weight
    except ImportError:
        return None
    name = weights_for_file(path)
    return get_weight(name).transforms() if name is not None else None


def weights_statistics(path: str) -> tuple[list[float], list[float]] | None:
    """(mean, std) of torchvision's ``transforms()`` for the weights ``path`` is the download of (ImageNet's for
    every classifier); None for another file or without torchvision."""
    preset = _preset(path)
    if preset is None:
        return None
    return [float(v) for v in preset.mean], [float(v) for v in preset.std]


def _size(value: Any) -> int:
    return int(value[0]) if isinstance(value, list | tuple) else int(value)


def weights_crop(training: TrainingSettings, size: tuple[int, ...]) -> tuple[int, int] | None:
    """(resize_size, crop_size) when images brought to ``size`` (height, width) feed torchvision weights whose own
    preprocessing is resize-then-centre-crop (``weights.transforms()``: resize 256, crop 224 for most): the
    short side to resize_size, then the centre square, as the network was trained on; None for any other
    network, or a size that is not the crop's (the user chose another)."""
    if not training.initial_weights or len(size) != 2:
        return None
    preset = _preset(training.initial_weights)
    if preset is None or getattr(preset, "crop_size", None) is None or getattr(preset, "resize_size", None) is None:
        return None
    crop = _size(preset.crop_size)
    return (_size(preset.resize_size), crop) if tuple(int(d) for d in size) == (crop, crop) else None
