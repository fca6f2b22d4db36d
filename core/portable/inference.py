"""Use a trained network on one sample: what the app's Try it panel runs.

An image FILE is read as the training read an image folder (``read_image_file``:
Pillow's colour mode and resize, ``core.portable.images.read_image``), so its pixels
are the training's own. An array without a Pillow image (the drawing pad, a test
sample) is resized with ``resize_images`` (torch, bilinear), as the array loaders
(npz, MNIST) resize theirs; its pixels are not the ones Pillow would give (on photos
they differ by up to ~0.09 in 0..1). Then the normalisation of ``prepare``
(core/portable/steps.py). predict.py (``torchcanvas export -f predict``,
core/code/predict_script.py) reads a file by the same steps.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.portable.images import read_image
from core.portable.steps import GREY, resize_crop, resize_images


def read_image_file(
    path, image_size: tuple, channels: int, crop: tuple | None = None
) -> np.ndarray:
    """An image file as the training read an image folder: [C, H, W] in [0, 1], at
    ``image_size`` (or cut by ``crop``, pretrained weights' rule) with Pillow's resize
    and colour mode (``read_image``), then divided by 255 as the loader divides. Given
    to ``preprocess`` it is already at the Input size: only normalised there."""
    pixels = torch.from_numpy(read_image(path, tuple(image_size), channels, crop))
    x = pixels.float() / 255.0
    x = x[None] if x.dim() == 2 else x.permute(2, 0, 1)
    return x.contiguous().numpy()


def preprocess(
    sample,
    mean: torch.Tensor | None,
    std: torch.Tensor | None,
    input_shape: tuple,
    image_size: tuple | None = None,
    layout: str | None = None,
    crop: tuple | None = None,
) -> torch.Tensor:
    """One sample as the data source gives it -> a batch of one for the network.

    The sample is a row of features, int64 token ids, or an image: [H, W] or
    [C, H, W] (or [H, W, C]) with values in [0, 1] (uint8 pixels are divided by
    255, as the loaders do). A caller that knows the image's layout says so
    (``layout="chw"`` or ``"hwc"``): the guess from the sizes reads an image 1,
    3 or 4 pixels high as channels (a 40x3 red strip came out grey). An image
    gets the channels of the training images (grey from colour with Pillow's
    weights, or grey repeated) and their size
    (image_size, else the input's last two sizes) with ``resize_images``, or
    with crop (resize_size, crop_size) as pretrained weights ask (``resize_crop``,
    as the training images were); then
    the sample is normalised with the training split's mean and std
    (``data["mean"]``, ``data["std"]``; None when normalisation is off) and
    reshaped to the network's input shape."""
    x = sample if isinstance(sample, torch.Tensor) else torch.tensor(np.array(sample))
    if not x.is_floating_point() and x.dtype != torch.uint8:
        return x.to(torch.int64).reshape(1, *input_shape)  # token ids, untouched
    x = x.to(torch.float32) / (255.0 if x.dtype == torch.uint8 else 1.0)
    if image_size is None and len(input_shape) == 3:
        image_size = tuple(input_shape[-2:])
    if image_size and x.dim() >= 2:  # an image
        if mean is not None and mean.dim() == 4:  # [1, C, 1, 1]
            channels = mean.shape[1]
        else:
            channels = input_shape[0] if len(input_shape) == 3 else 1
        if x.dim() == 2:  # [H, W]: one grey channel
            x = x[None]
        elif layout == "hwc" or (layout is None and guess_hwc(x.shape)):
            x = x.permute(2, 0, 1)  # [H, W, C] -> [C, H, W]
        x = x[:3]  # no alpha
        if x.shape[0] == 3 and channels == 1:
            x = sum(w * c for w, c in zip(GREY, x))[None]
        elif x.shape[0] == 1 and channels == 3:
            x = x.repeat(3, 1, 1)
        if crop:
            x = resize_crop(x[None], *crop)
        else:
            x = resize_images(x[None], tuple(image_size))
    else:
        x = x.reshape(1, -1)
    if mean is not None and std is not None:
        x = (x - mean.to(x.device)) / std.to(x.device)
    return x.reshape(1, *input_shape)


def guess_hwc(shape: tuple) -> bool:
    """[H, W, C] when the last size could be channels and the first could not."""
    return shape[-1] in (1, 3, 4) and shape[0] not in (1, 3, 4)


@torch.no_grad()
def predict(
    model: nn.Module,
    sample,
    mean: torch.Tensor | None,
    std: torch.Tensor | None,
    input_shape: tuple,
    loss_name: str,
    image_size: tuple | None = None,
    layout: str | None = None,
    crop: tuple | None = None,
) -> torch.Tensor:
    """The class probabilities the trained model gives one sample (eval mode):
    the softmax of its outputs, or for a single output the probability of
    class 1 that the loss implies (a sigmoid for BCEWithLogitsLoss)."""
    model.eval()
    device = next(model.parameters()).device
    x = preprocess(sample, mean, std, input_shape, image_size, layout, crop).to(device)
    outputs = model(x).float().reshape(-1)
    if len(outputs) > 1:
        if loss_name == "NLLLoss":  # the network ends in log_softmax
            return outputs.exp()
        return F.softmax(outputs, dim=0)
    one = outputs.sigmoid() if loss_name == "BCEWithLogitsLoss" else outputs
    one = one.clamp(0.0, 1.0)
    return torch.cat([1 - one, one])
