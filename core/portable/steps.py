"""Split, normalise, augment, evaluate and report: pasted verbatim into scripts.

The trainer and the exported script both call these, in the same order and with
the same seeds, so an exported run reproduces the app's losses exactly on CPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")
GREY = (0.299, 0.587, 0.114)  # the weights Pillow's convert("L") gives R, G, B


def prepare(
    raw: tuple,
    val_fraction: float,
    test_fraction: float,  # [!given_test]
    seed: int,
    normalize,  # [!tokens]
    input_shape: tuple,
) -> dict:
    """Seeded split (test first when the source has none, then validation),
    normalisation of the inputs, and every sample reshaped to the network's
    input shape."""
    x, y, x_test, y_test, _ = raw
    x, x_test = fit_channels(x, x_test, input_shape)  # [channels]
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = 0 if x_test is not None else round(len(x) * test_fraction)  # [!given_test]
    n_val = round(len(x) * val_fraction)
    if x_test is None:  # [!given_test]
        x_test, y_test = x[order[:n_test]], y[order[:n_test]]
    val, train = order[:n_val], order[n_val:]  # [given_test]
    # [!given_test]
    val, train = order[n_test : n_test + n_val], order[n_test + n_val :]
    data = {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x_test,
        "y_test": y_test,
        "mean": None,  # [app]
        "std": None,  # [app]
    }
    if normalize and data["x_train"].is_floating_point():  # [!tokens]
        mean, std = statistics(
            data["x_train"],
            normalize,  # [fixed]
        )
        for split in ("x_train", "x_val", "x_test"):
            data[split] = (data[split] - mean) / std
        data["mean"], data["std"] = mean, std  # [app]
    for split in ("x_train", "x_val", "x_test"):
        data[split] = data[split].reshape(len(data[split]), *input_shape)
    return data


def fit_channels(x: torch.Tensor, x_test, input_shape: tuple) -> tuple:
    """Grey images become RGB for a 3-channel input (the grey thrice), colour
    ones grey for a 1-channel input (as Pillow's convert("L") weighs R, G, B)."""
    pair = [x] if x_test is None else [x, x_test]
    grey = x.dim() == 4 and x.shape[1] == 1
    colour = x.dim() == 4 and x.shape[1] == 3 and x.is_floating_point()
    if grey and tuple(input_shape) == (3, *x.shape[2:]):
        pair = [images.expand(-1, 3, -1, -1) for images in pair]
    elif colour and tuple(input_shape) == (1, *x.shape[2:]):
        pair = [sum(w * i[:, k : k + 1] for k, w in enumerate(GREY)) for i in pair]
    return pair[0], pair[1] if len(pair) > 1 else None


def statistics(
    x_train: torch.Tensor,
    normalize,  # [fixed]
) -> tuple:
    # [fixed]
    """The mean and std to normalise with: a pretrained network's own, per channel
    (normalize), not those of the training split."""
    # [!fixed]
    """The mean and std to normalise with, from the training split: per feature
    of a table (N, F), per channel of images (N, C, ...)."""
    if isinstance(normalize, (tuple, list)):  # [app]
        return weights_statistics(x_train, normalize)
    dims = [0, *range(2, x_train.dim())]  # [!fixed]
    mean = x_train.mean(dim=dims, keepdim=True)  # [!fixed]
    std = x_train.std(dim=dims, keepdim=True).clamp_min(1e-6)  # [!fixed]
    return mean, std  # [!fixed]
    return weights_statistics(x_train, normalize)  # [fixed]


def weights_statistics(x_train: torch.Tensor, normalize) -> tuple:
    """A fixed (mean, std) per channel: a pretrained network's weights expect
    the statistics of the images they were trained on (ImageNet's), not those
    of the new data."""
    channels = [1, len(normalize[0])] + [1] * (x_train.dim() - 2)
    if x_train.dim() < 2 or x_train.shape[1] != channels[1]:
        raise ValueError(
            f"The normalisation has {channels[1]} means (one per channel) "
            f"but the samples are {list(x_train.shape[1:])}"
        )
    mean = torch.tensor(normalize[0], dtype=x_train.dtype).reshape(channels)
    std = torch.tensor(normalize[1], dtype=x_train.dtype).reshape(channels)
    return mean, std


def to_target(outputs: torch.Tensor, labels: torch.Tensor, loss_name: str):
    """What the loss compares the outputs with: class indices for CrossEntropy
    and NLL; for the others a float tensor shaped like the outputs (one-hot
    rows when the labels are classes and there is one output per class)."""
    if loss_name in ("CrossEntropyLoss", "NLLLoss"):
        return labels
    if labels.dtype == torch.int64 and outputs.dim() > 1 and outputs.shape[1] > 1:
        return F.one_hot(labels, outputs.shape[1]).to(outputs.dtype)
    return labels.to(outputs.dtype).reshape(outputs.shape)


def classes_of(outputs: torch.Tensor, loss_name: str) -> torch.Tensor:
    """Predicted class per sample: the largest output, or a threshold for one."""
    if outputs.dim() > 1 and outputs.shape[1] > 1:
        return outputs.argmax(1)
    threshold = 0.0 if loss_name == "BCEWithLogitsLoss" else 0.5
    return (outputs.reshape(len(outputs)) > threshold).long()


def augment(
    images: torch.Tensor,
    flip: bool,
    degrees: float,
    shift: int,
    crop: float = 0.0,
    jitter: float = 0.0,
) -> torch.Tensor:
    """Random horizontal flip, rotation (+-degrees), shift (+-pixels), crop
    (a random part covering 1 - crop to all of the area, resized back) and
    colour jitter, drawn per image and applied to the whole batch at once on
    its device. The draws for crop and jitter come after the others, so
    turning them on leaves the flips, angles and shifts of a seed as they were.

    Jitter works on the values as they are (usually normalised): brightness
    moves an image by up to jitter times its own spread, contrast scales it
    around its own mean by 1 +- jitter, and for 3 channels saturation scales
    each pixel's distance from its grey by 1 +- jitter."""
    n, device = len(images), images.device
    if flip:
        mirrored = torch.rand(n, device=device) < 0.5
        images = torch.where(mirrored[:, None, None, None], images.flip(-1), images)
    if degrees or shift or crop:
        angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(degrees)
        move = (torch.rand(n, 2, device=device) * 2 - 1) * shift
        size = torch.tensor(images.shape[-1:-3:-1], device=device)  # (W, H)
        move = move / size * 2  # pixels -> grid units in [-1, 1]
        side = torch.ones(n, device=device)
        if crop:  # a side of sqrt(area), its centre anywhere that keeps it inside
            side = (1 - torch.rand(n, device=device) * crop).sqrt()
            move = (
                move + (torch.rand(n, 2, device=device) * 2 - 1) * (1 - side)[:, None]
            )
        cos, sin = torch.cos(angle) * side, torch.sin(angle) * side
        theta = torch.stack(
            [
                torch.stack([cos, -sin, move[:, 0]], 1),
                torch.stack([sin, cos, move[:, 1]], 1),
            ],
            1,
        )
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        images = F.grid_sample(images, grid, align_corners=False)
    if jitter:
        factors = 1 + (torch.rand(n, 3, 1, 1, 1, device=device) * 2 - 1) * jitter
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        spread = images.std(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * factors[:, 1] + mean + (factors[:, 0] - 1) * spread
        if images.shape[1] == 3:  # colour: nearer to or further from grey
            grey = images.mean(dim=1, keepdim=True)
            images = grey + (images - grey) * factors[:, 2]
    return images


def shuffled_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    rank: int = 0,
    world: int = 1,
):
    """The training split in a new random order, one batch at a time.

    Under torchrun (world processes) every process draws the same order and
    takes every world-th sample of it from its rank on, so together they see
    each batch of the one-process run; the few samples that do not divide
    evenly wait for another epoch, so every process takes as many steps."""
    order = torch.randperm(len(x), generator=generator).to(x.device)
    if world > 1:  # distributed: this process's shard of the order
        order = order[rank : len(order) - len(order) % world : world]
    for first in range(0, len(order), batch_size):
        batch = order[first : first + batch_size]
        yield x[batch], y[batch]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: nn.Module,
    loss_name: str,
    batch_size: int,
) -> tuple:
    """Mean loss, accuracy and predictions over a whole split, in eval mode."""
    model.eval()
    total, correct, predictions = 0.0, 0, []
    for first in range(0, len(x), batch_size):
        inputs, labels = x[first : first + batch_size], y[first : first + batch_size]
        outputs = model(inputs)
        total += loss_fn(outputs, to_target(outputs, labels, loss_name)).item() * len(
            labels
        )
        predicted = classes_of(outputs, loss_name)
        correct += int((predicted == labels).sum())
        predictions.append(predicted)
    if len(x) == 0:
        return float("nan"), float("nan"), torch.zeros(0, dtype=torch.int64)
    return total / len(x), correct / len(x), torch.cat(predictions)


def progress_line(steps: int, seconds: float, samples: int, metrics: dict) -> str:
    """A Keras-like line: 45/45 [=====] - 1s 3ms/step - 9000 samples/s - loss: ...
    A slow run's rate keeps 3 digits (0.42, not 0), a huge loss is in e-notation."""
    per_step = 1000 * seconds / max(steps, 1)
    rate = samples / max(seconds, 1e-9)
    parts = [
        f"{steps}/{steps} [{'=' * 30}]",
        f"{seconds:.0f}s {per_step:.0f}ms/step",
        f"{rate:,.0f} samples/s" if rate >= 100 else f"{rate:.3g} samples/s",
    ]
    parts += [
        f"{name}: {value:.4f}" if abs(value) < 1e6 else f"{name}: {value:.4g}"
        for name, value in metrics.items()
    ]
    return " - ".join(parts)


def resize_crop(images: torch.Tensor, resize_size: int, crop_size: int) -> torch.Tensor:
    """Pretrained weights' own preprocessing (torchvision's ``weights.transforms()``):
    the short side resized to resize_size (the aspect kept), then the centre
    crop_size x crop_size cut out, as torchvision.transforms.v2 does it."""
    height, width = images.shape[-2:]
    short, long = min(height, width), max(height, width)
    size = (resize_size, int(resize_size * long / short))
    images = resize_images(images, size if height <= width else size[::-1])
    top = round((images.shape[-2] - crop_size) / 2.0)
    left = round((images.shape[-1] - crop_size) / 2.0)
    return images[..., top : top + crop_size, left : left + crop_size]


def resize_images(images: torch.Tensor, size: tuple) -> torch.Tensor:
    """Every image (N, C, H, W) resized to size (height, width), smoothly."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(
        images, size=tuple(size), mode="bilinear", antialias=True, align_corners=False
    )
