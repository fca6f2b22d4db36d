"""16-bit images (PNG/TIFF mode I;16: microscopy, medical scans) are scaled from 0..65535 to 0..255, not clipped
to white by Pillow's convert (trial 4, E: every 'bright' image of a 16-bit folder trained as a flat 255 and the
'dark' ones nearly so). The in-memory loader, the big-folder loader and the exported script share
``core.portable.images.convert_image``; the survey says it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.datasets.folder import _script as folder_script
from core.datasets.folder import image_headers
from core.datasets.folder_samples import FolderSamples
from core.datasets.spec import parse_spec
from core.datasets.survey import survey, survey_lines
from core.portable.images import convert_image, load_image_folder
from core.settings import TrainingSettings


def _folder(root: Path) -> Path:
    for name, level in (("bright", 40000), ("dark", 5000)):
        (root / name).mkdir(parents=True)
        for i in range(3):
            pixels = np.full((6, 4), level + 1000 * i, dtype=np.uint16)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_a_16_bit_folder_keeps_its_levels_in_training(tmp_path) -> None:
    root = _folder(tmp_path / "img16")
    assert Image.open(root / "bright" / "0.png").mode == "I;16"
    x, y, *_ = load_image_folder(str(root), (6, 4), 1)
    means = [float(x[y == k].mean()) for k in (0, 1)]  # bright, dark
    assert means == pytest.approx([41000 / 65535, 6000 / 65535], abs=1 / 255)  # clipped before: 1.0 and 1.0


def test_the_big_folder_reader_scales_the_same(tmp_path) -> None:
    root = _folder(tmp_path / "img16")
    files = [(root / "dark" / "2.png", 1)]
    x, _ = FolderSamples(files, (6, 4), 3, (3, 6, 4)).raw(0)
    assert float(x.mean()) == pytest.approx(7000 / 65535, abs=1 / 255)


@pytest.mark.parametrize(
    ("pixels", "expected"),
    [
        (np.array([[0, 65535]], np.uint16), [0, 255]),
        (np.array([[0, 32768]], np.int32), [0, 128]),  # mode I holding 16-bit values
        (np.array([[0.0, 0.5]], np.float32), [0, 128]),  # mode F in 0..1
        (np.array([[-10.0, 30.0]], np.float32), [0, 255]),  # mode F of another range: its own lowest to highest
    ],
)
def test_convert_image_scales_deep_modes(pixels, expected) -> None:
    assert np.asarray(convert_image(Image.fromarray(pixels), "L")).tolist() == [expected]
    assert np.asarray(convert_image(Image.fromarray(pixels), "RGB"))[0, :, 1].tolist() == expected


def test_an_8_bit_image_converts_as_before() -> None:
    image = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(2, 2, 3) * 20, "RGB")
    assert np.array_equal(np.asarray(convert_image(image, "L")), np.asarray(image.convert("L")))


def test_the_survey_says_16_bit_images_are_scaled(tmp_path) -> None:
    root = _folder(tmp_path / "img16")
    assert image_headers(sorted(root.glob("*/*.png"))).deep == 6
    lines = survey_lines(survey(f"folder:{root}"))
    assert any(line.startswith("note: 6 of 6 images have more than 8 bits a pixel") for line in lines)


def test_the_exported_script_carries_the_scaling(tmp_path) -> None:
    """The script pastes load_image_folder, which calls convert_image: it must be pasted too."""
    load = folder_script(parse_spec(f"folder:{tmp_path}"), TrainingSettings(), (1, 6, 4), False)
    assert load.helpers.index(convert_image) < load.helpers.index(load_image_folder)
