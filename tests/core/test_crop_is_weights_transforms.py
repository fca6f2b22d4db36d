"""The pretrained script's crop_image says it gives the very pixels of torchvision's weights.transforms()
(review 6, S20: the script wrote the preprocessing out without saying why): this checks that claim, for wide,
tall, square, small and grey pictures, and that normalising them as the script does gives transforms()'s tensor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.portable.images import crop_image

torchvision = pytest.importorskip("torchvision")


@pytest.mark.parametrize("size", [(400, 300), (300, 400), (500, 500), (640, 427), (231, 1000), (100, 80)])
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_crop_image_gives_the_pixels_and_numbers_of_weights_transforms(size: tuple[int, int], mode: str) -> None:
    from torchvision.models import ResNet18_Weights
    from torchvision.transforms import functional

    preset = ResNet18_Weights.IMAGENET1K_V1.transforms()
    width, height = size
    shape = (height, width, 3) if mode == "RGB" else (height, width)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8), mode)
    ours = np.array(crop_image(image, (preset.resize_size[0], preset.crop_size[0])), dtype=np.uint8)
    resized = functional.resize(image, preset.resize_size, interpolation=preset.interpolation, antialias=True)
    theirs = np.array(functional.center_crop(resized, preset.crop_size), dtype=np.uint8)
    assert np.array_equal(ours, theirs)
    if mode == "RGB":  # then as the script normalises: / 255, minus the mean, over the std
        x = torch.from_numpy(ours).permute(2, 0, 1).float() / 255
        mean, std = (torch.tensor(v).view(3, 1, 1) for v in (preset.mean, preset.std))
        assert torch.equal((x - mean) / std, preset(image))
