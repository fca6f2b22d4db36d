"""Colour arrays into a 1-channel Input are turned grey, as image folders were, for .npz and IDX files too (issue
27; before, the check refused them: "set the Input shape to [3, 8, 8]"), with the folder's words; grey arrays into
an RGB Input are repeated in three channels. The app's loader and the exported script give the same tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.code.script import generate_script
from core.datasets import load_for_settings
from core.model.analysis import analyze
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project, write_idx


def _colour(tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8), np.arange(40) % 2


def _warnings(project: object) -> list[str]:
    analysis = analyze(project.graph, project.training)  # type: ignore[attr-defined]
    assert analysis.errors == [], [p.message for p in analysis.errors]
    return [p.message for p in analysis.problems if p.severity == "warning"]


def test_colour_npz_and_idx_into_a_grey_input_are_turned_grey_as_pillow_does(tmp_path: Path) -> None:
    x, y = _colour(tmp_path)
    np.savez(tmp_path / "colour.npz", x_train=x, y_train=y)
    idx = (write_idx(tmp_path / "images.idx", x), write_idx(tmp_path / "labels.idx", y))
    pillow = np.stack([np.asarray(Image.fromarray(image).convert("L"), dtype=np.float32) for image in x]) / 255
    for spec, name in ((f"npz:{tmp_path / 'colour.npz'}", "colour.npz"), (f"idx:{idx[0]},{idx[1]}", "images.idx")):
        project = mlp_project([1, 8, 8], 8, 2, dataset=spec, normalize=False, val_fraction=0.0, test_fraction=0.0)
        assert _warnings(project) == [
            f"The images of {name} are in colour: they are turned grey for x's 1 channel (set its shape to "
            "[3, 8, 8] to keep the colour)"
        ]
        data = load_for_settings(project.training, (1, 8, 8))
        assert data.x_train.shape == (40, 1, 8, 8)
        order = torch.randperm(40, generator=torch.Generator().manual_seed(0))
        np.testing.assert_allclose(data.x_train[:, 0].numpy(), pillow[order.numpy()], atol=1 / 255 + 1e-6)
        module, _ = run_as_module(generate_script(project).source)
        assert torch.equal(module.load_data()[0], data.x_train)  # the exported script turns them grey alike


def test_grey_npz_into_an_rgb_input_is_repeated_in_three_channels(tmp_path: Path) -> None:
    x = np.random.default_rng(1).integers(0, 256, size=(30, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", x_train=x, y_train=np.arange(30) % 3)
    project = mlp_project([3, 8, 8], 8, 3, dataset=f"npz:{tmp_path / 'grey.npz'}")
    assert _warnings(project) == ["The images of grey.npz are grey: the grey is repeated in x's 3 channels"]
    data = load_for_settings(project.training, (3, 8, 8))
    assert data.x_train.shape[1:] == (3, 8, 8) and torch.equal(data.x_train[:, 0], data.x_train[:, 2])


def test_a_network_fixed_by_its_weights_is_told_to_convert_colour_to_grey(tmp_path: Path) -> None:
    x, y = _colour(tmp_path)
    np.savez(tmp_path / "colour.npz", x_train=x, y_train=y)
    spec = f"npz:{tmp_path / 'colour.npz'}"
    project = mlp_project([1, 16, 16], 8, 2, dataset=spec, initial_weights="backbone.pt")
    errors = [p.message for p in analyze(project.graph, project.training).errors]
    assert any(
        "This network expects 1x16x16 images; your images (colour.npz) are 3x8x8: resize to 16x16 and convert to grey"
        in e
        for e in errors
    ), errors
