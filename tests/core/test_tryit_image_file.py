"""An image file in Try it and in predict.py is resized as the training resized its image files (review 7, T3):
both resized the picture with torch (bilinear, on floats) while the image-folder loader resizes it with Pillow
(``core.portable.images.fit_image``, on bytes), so the network saw pixels up to ~0.09 away from a training
image's. Now the file goes through the loader's own ``read_image``: its tensor is the loader's, to 1e-6."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from PIL import Image

from core.code.predict_script import PredictFacts, generate_predict
from core.portable import inference
from core.portable.images import load_image_folder
from tests.core.test_predict_script import _ruff_clean
from tests.core.train_fixtures import mlp_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _folder(root: Path) -> list[Path]:
    """Two classes of pictures of other sizes than the Input's: a noisy one and a smooth one each."""
    rng = np.random.default_rng(3)
    files = []
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        noisy = rng.integers(0, 256, size=(30, 44, 3), dtype=np.uint8)
        ramp = np.linspace(0, 255, 50 * 37 * 3).reshape(37, 50, 3) ** 1.3 % 256
        for k, pixels in enumerate((noisy, ramp.astype(np.uint8))):
            Image.fromarray(pixels, "RGB").save(root / name / f"{k}.png")
            files.append(root / name / f"{k}.png")
    return files


def _module(text: str, path: Path) -> ModuleType:
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("predict_t3", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("channels", "crop"), [(3, None), (1, None), (3, (20, 16))])
def test_an_image_file_is_the_training_loader_s_tensor_in_try_it_and_predict_py(
    tmp_path: Path, channels: int, crop: tuple[int, int] | None
) -> None:
    files = _folder(tmp_path / "pets")
    size = crop[1:] * 2 if crop else (16, 12)
    shape = (channels, *size)
    loaded, *_ = load_image_folder(str(tmp_path / "pets"), size, channels, crop)  # the training's images
    mean = torch.linspace(0.3, 0.5, channels).reshape(1, channels, 1, 1)
    std = torch.linspace(0.2, 0.25, channels).reshape(1, channels, 1, 1)
    facts = PredictFacts(
        "image",
        ["cat", "dog"],
        shape,
        "CrossEntropyLoss",
        2,
        image_size=size,
        channels=channels,
        crop=crop,
        mean=mean.reshape(-1).tolist(),
        std=std.reshape(-1).tolist(),
    )
    text = generate_predict(mlp_project(list(shape), 4, 2), facts)
    assert text.count("from PIL import Image") == 1 and "only image folders need" not in text  # T10: the app's
    module = _module(text, tmp_path / "predict.py")
    _ruff_clean(tmp_path / "predict.py")
    worst_before = 0.0
    for k, file in enumerate(files):
        trained = ((loaded[k : k + 1] - mean) / std).numpy()
        sample = inference.read_image_file(file, size, channels, crop)  # Try it's file path (TrySource.image_file)
        try_it = inference.preprocess(sample, mean, std, shape, size, "chw")  # as tryit_model.probabilities
        np.testing.assert_allclose(try_it.numpy(), trained, atol=1e-6)
        np.testing.assert_allclose(module.read_image(str(file)).numpy(), trained, atol=1e-6)
        with Image.open(file) as image:  # what both did before: the whole picture, resized with torch
            rgb = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
        before = inference.preprocess(rgb, mean, std, shape, size, "chw", crop).numpy()
        worst_before = max(worst_before, float(np.abs((before - trained) * std.numpy()).max()))
    assert worst_before > 1e-3  # the gap this test closes, in 0..1 pixel units (0.0036 to 0.1 here)
