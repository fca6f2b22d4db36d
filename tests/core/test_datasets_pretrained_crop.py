"""A project that starts from torchvision's weights preprocesses as those weights were trained (issue 27): the
short side resized to the weights' resize_size, then the centre crop_size square (``weights.transforms()``:
256 then 224 for resnet18), read from the weights enum, not typed in. Before, images were squashed straight to the
Input's size, which a non-square photo distorts. The app's loader and the exported script do it alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.models import get_weight
from torchvision.transforms import v2

from core.code.script import generate_script
from core.datasets import load_for_settings
from core.datasets.fit import weights_crop
from core.portable.images import fit_image
from core.portable.steps import resize_crop
from core.pretrained.catalog import cache_path
from core.settings import TrainingSettings
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project

RESNET18 = "ResNet18_Weights.IMAGENET1K_V1"


def _download(name: str) -> str:
    """The file name torch's cache gives these weights (nothing is read from it here)."""
    return str(cache_path(get_weight(name).url))


def _torchvision(name: str) -> v2.Compose:
    preset = get_weight(name).transforms()
    return v2.Compose([v2.Resize(preset.resize_size), v2.CenterCrop(preset.crop_size)])


def test_the_sizes_come_from_the_weights_enum() -> None:
    for name, sizes in ((RESNET18, (256, 224)), ("Inception_V3_Weights.IMAGENET1K_V1", (342, 299))):
        preset = get_weight(name).transforms()
        assert (preset.resize_size[0], preset.crop_size[0]) == sizes
        settings = TrainingSettings(initial_weights=_download(name))
        assert weights_crop(settings, (sizes[1], sizes[1])) == sizes
        assert weights_crop(settings, (64, 64)) is None  # another size, chosen by the user: plain resize
    assert weights_crop(TrainingSettings(initial_weights="mine.pt"), (224, 224)) is None  # not torchvision's


def test_a_non_square_image_is_resized_and_centre_cropped_as_torchvision_v2_does() -> None:
    transform = _torchvision(RESNET18)
    rng = np.random.default_rng(0)
    for height, width in ((300, 500), (481, 257)):
        tensor = torch.rand(2, 3, height, width)
        torch.testing.assert_close(resize_crop(tensor, 256, 224), transform(tensor), rtol=0, atol=1e-6)
        picture = Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))
        assert np.array_equal(np.asarray(fit_image(picture, (224, 224), (256, 224))), np.asarray(transform(picture)))


def _project(dataset: str) -> object:
    return mlp_project(
        [3, 224, 224],
        4,
        2,
        dataset=dataset,
        initial_weights=_download(RESNET18),
        normalize=False,
        val_fraction=0.0,
        test_fraction=0.0,
    )


def _same_in_the_script(project: object, x_train: torch.Tensor) -> None:
    module, _ = run_as_module(generate_script(project).source)  # type: ignore[arg-type]
    assert torch.equal(module.load_data()[0], x_train)


def test_a_folder_of_photos_is_cropped_like_torchvision_in_the_app_and_the_script(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pictures = []
    for k, name in enumerate(("cat", "dog")):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            picture = Image.fromarray(rng.integers(0, 256, size=(240 + 40 * i, 330 - 30 * k, 3), dtype=np.uint8))
            picture.save(tmp_path / "pets" / name / f"{i}.png")
            pictures.append(picture)
    project = _project(f"folder:{tmp_path / 'pets'}")
    data = load_for_settings(project.training, (3, 224, 224))  # type: ignore[attr-defined]
    transform = _torchvision(RESNET18)
    expected = torch.stack([v2.functional.to_dtype(v2.functional.to_image(transform(p)), scale=True) for p in pictures])
    order = torch.randperm(6, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(data.x_train, expected[order], rtol=0, atol=1e-6)
    _same_in_the_script(project, data.x_train)


def _photos(tmp_path: Path, height: int, width: int) -> tuple[np.ndarray, object, object, torch.Tensor]:
    """Six colour photos in an .npz, a project resizing them to the weights' 224, the app's data, torchvision's."""
    x = np.random.default_rng(height).integers(0, 256, size=(6, height, width, 3), dtype=np.uint8)
    np.savez(tmp_path / "photos.npz", x_train=x, y_train=np.arange(6) % 2)
    project = _project(f"npz:{tmp_path / 'photos.npz'}")
    project.training.resize = [224, 224]  # type: ignore[attr-defined]
    data = load_for_settings(project.training, (3, 224, 224))  # type: ignore[attr-defined]
    return x, project, data, _torchvision(RESNET18)(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255)


def test_array_images_are_cropped_like_torchvision_in_the_app_and_the_script(tmp_path: Path) -> None:
    _, project, data, expected = _photos(tmp_path, 30, 50)
    order = torch.randperm(6, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(data.x_train, expected[order], rtol=0, atol=1e-6)  # type: ignore[attr-defined]
    _same_in_the_script(project, data.x_train)  # type: ignore[attr-defined]


def test_a_new_image_for_try_it_is_cropped_as_the_training_images_were(tmp_path: Path) -> None:
    from core.portable.inference import preprocess

    x, _, data, expected = _photos(tmp_path, 40, 70)
    crop = data.extra["crop"]  # type: ignore[attr-defined]
    assert crop == (256, 224)  # what Try it and predict() are given
    seen = preprocess(x[0], None, None, (3, 224, 224), (224, 224), "hwc", crop)
    torch.testing.assert_close(seen, expected[:1], rtol=0, atol=1e-6)


def test_the_one_click_fix_says_the_crop() -> None:
    from core.datasets.fit import fit_changes
    from core.datasets.info import dataset_info

    training = TrainingSettings(dataset="digits", initial_weights=_download(RESNET18))
    fix = fit_changes(dataset_info("digits"), (3, 224, 224), training)
    assert fix is not None and fix.changes["resize"] == [224, 224]
    assert fix.message == (
        "This network expects 3x224x224 images; your images (digits) are 1x8x8: resize to 224x224 and convert to RGB "
        "(the short side to 256, then the centre 224x224, as the weights' own transforms), and normalise with the "
        "weights' own mean and std"
    )
