"""Reading a file for Try it (gui/training/drawpad.py::read_image_file) and preparing it for the network
(core/portable/inference.py::preprocess): huge files are refused from their header, thin strips keep their colour."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from gui.training.drawpad import MAX_PIXELS, read_image_file


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height RGB pixels but holds none: Pillow opens it (the header is all
    it reads), decoding it would fail, so any work past the header shows up as a different error."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def _decoding(monkeypatch) -> list[str]:
    """Each decode of pixels Pillow starts (``load``, ``convert``): none for a file refused from its header (this
    was a wall-clock bound of 1 s, which failed on a busy machine)."""
    from PIL import Image, ImageFile

    decoded: list[str] = []
    for cls, name in ((ImageFile.ImageFile, "load"), (Image.Image, "convert")):
        real = getattr(cls, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            decoded.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    return decoded


@pytest.mark.parametrize("side", [12000, 20000])  # 144 Mpx (Pillow warns), 400 Mpx (Pillow refuses to open)
def test_a_huge_image_is_refused_from_its_header_with_its_size_and_the_limit(tmp_path, side, monkeypatch):
    decoded = _decoding(monkeypatch)
    path = png_header(tmp_path / "big.png", side, side)
    with pytest.raises(ValueError) as refused:
        read_image_file(path)
    assert decoded == []
    message = str(refused.value)
    assert message.startswith("big.png is ")
    assert f"up to {MAX_PIXELS / 1e6:g} Mpx" in message
    if side == 12000:
        assert "12000x12000 pixels (144 Mpx)" in message


def test_an_image_under_the_limit_is_read(tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "red.png")
    picture = read_image_file(tmp_path / "red.png")
    assert picture.shape == (30, 40, 3)
    assert np.allclose(picture[..., 0], 1) and np.allclose(picture[..., 1:], 0)
    with pytest.raises(ValueError, match=r"red.png is 40x30 pixels .* up to 0.001 Mpx"):
        read_image_file(tmp_path / "red.png", max_pixels=1000)


def test_a_16_bit_image_is_scaled_as_training_scales_it_not_clipped_to_white(tmp_path):
    """Trial 4 E: Try it read a 16-bit PNG with Pillow's convert, which clips every value above 255 to white."""
    from PIL import Image

    from core.portable.images import convert_image

    values = np.array([[1000, 20000], [40000, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "scan.png")
    picture = read_image_file(tmp_path / "scan.png")
    with Image.open(tmp_path / "scan.png") as image:
        training = np.asarray(convert_image(image, "RGB"), dtype=np.float32) / 255.0
    assert np.array_equal(picture, training)
    assert picture[0, 0, 0] < 0.02 and 0.25 < picture[0, 1, 0] < 0.35 and picture[1, 1, 0] == 1.0


def test_a_uniform_sample_is_shown_uniform_not_stretched_into_stripes(qtbot):
    """F25: a uniform grey image's network input (std 7e-8 of float noise) was stretched to black/white stripes."""
    from gui.widgets.images import sample_pixmap

    noise = np.random.default_rng(0).normal(0, 1e-7, (3, 20, 50)).astype(np.float32)
    image = sample_pixmap(0.5 + noise, size=50).toImage()
    greys = {image.pixelColor(x, y).red() for x in range(image.width()) for y in range(image.height())}
    assert greys <= {127, 128}, sorted(greys)
    ramp = np.linspace(0.2, 0.3, 50, dtype=np.float32)[None].repeat(4, 0)  # a real (small) contrast: stretched
    stretched = sample_pixmap(ramp, size=50).toImage()
    assert stretched.pixelColor(0, 0).red() == 0 and stretched.pixelColor(49, 0).red() == 255


def test_a_tables_features_are_named_after_the_users_columns(qtbot, tmp_path):
    """F3: Try it showed "feature 1..10" for a table's encoded features; each is named after its column now, in
    the loader's own order (checked against the matrix the loader builds)."""
    from types import SimpleNamespace

    import torch

    from core.datasets import load_for_settings
    from core.settings import TrainingSettings
    from gui.training.tryit_model import feature_names
    from gui.training.tryit_widgets import FeatureTable

    colours = ["red", "green", "blue", "green", "red", "blue"] * 5
    rows = [f"{'' if k % 7 == 0 else k / 10},{k % 4},{colour},{k * 0.5}" for k, colour in enumerate(colours)]
    csv = tmp_path / "table.csv"
    csv.write_text("feat_a,feat_b,colour,target\n" + "\n".join(rows) + "\n")
    dataset = f"table:{csv}?label=target"
    names = feature_names(dataset, 6)
    expected = ["feat_a", "feat_a missing", "feat_b", "colour = blue", "colour = green", "colour = red"]
    assert names == expected
    data = load_for_settings(TrainingSettings(dataset=dataset, normalize=False), (6,))
    x = torch.cat([data.x_train, data.x_val, data.x_test]).numpy()
    red = x[:, names.index("colour = red")] == 1
    assert red.sum() == colours.count("red") and (x[red, names.index("colour = blue")] == 0).all()
    assert feature_names(dataset, 5) == [f"feature {k}" for k in range(1, 6)]  # not this file's features
    assert feature_names("iris", 4) == ["feature 1", "feature 2", "feature 3", "feature 4"]

    table = FeatureTable()
    qtbot.addWidget(table)
    source = SimpleNamespace(
        project=SimpleNamespace(training=SimpleNamespace(dataset=dataset)),
        x_test=data.x_test,
        sample_shape=(6,),
        raw_sample=lambda i: data.x_test[i].numpy(),
    )
    table.fill(source)
    labels = [table.form.itemAt(k, table.form.ItemRole.LabelRole).widget().text() for k in range(6)]
    assert labels == expected
