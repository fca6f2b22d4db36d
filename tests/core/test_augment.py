"""Random resized crop and colour jitter (issue 26): seeded, batched like flip, rotation and shift, the same
``augment`` in the app and in the exported script, validated with plain words."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from core.errors import ParameterError
from core.portable import steps
from core.settings import TrainingSettings
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project


def _drawn(images: torch.Tensor, seed: int, *args) -> torch.Tensor:
    torch.manual_seed(seed)
    return steps.augment(images, *args)


def test_crop_and_jitter_off_change_nothing_and_leave_the_older_draws_alone() -> None:
    x = torch.rand(6, 3, 12, 12)
    assert torch.equal(_drawn(x, 0, True, 20.0, 2), _drawn(x, 0, True, 20.0, 2, 0.0, 0.0))
    assert torch.equal(_drawn(x, 0, False, 0.0, 0, 0.0, 0.0), x)


def test_a_crop_enlarges_a_random_part_that_covers_the_asked_area() -> None:
    """A horizontal ramp from -1 to 1: a crop keeping a fraction a of the area (side sqrt(a)) spans
    sqrt(a) of the ramp, resized back to the full width, never past its ends."""
    ramp = torch.linspace(-1, 1, 33).expand(8, 1, 33, 33).contiguous()
    out = _drawn(ramp, 3, False, 0.0, 0, 0.5)
    middle = out[:, 0, 16]  # the middle row of each image
    span = (middle[:, -1] - middle[:, 0]) / (ramp[0, 0, 16, -1] - ramp[0, 0, 16, 0])
    assert (span < 0.99).all() and (span > 0.5**0.5 - 0.05).all()  # zoomed in, by at most 1/sqrt(0.5)
    assert len(set(middle[:, 0].tolist())) == 8  # each image its own part
    assert torch.equal(out, _drawn(ramp, 3, False, 0.0, 0, 0.5))  # seeded
    assert not torch.equal(out, _drawn(ramp, 4, False, 0.0, 0, 0.5))


def test_jitter_moves_brightness_and_contrast_within_the_strength_and_keeps_grey_grey() -> None:
    x = torch.randn(64, 1, 10, 10)
    out = _drawn(x, 0, False, 0.0, 0, 0.0, 0.3)
    ratio = out.std(dim=(1, 2, 3)) / x.std(dim=(1, 2, 3))  # contrast
    assert (ratio >= 0.7 - 1e-5).all() and (ratio <= 1.3 + 1e-5).all() and ratio.std() > 0.05
    moved = (out.mean(dim=(1, 2, 3)) - x.mean(dim=(1, 2, 3))) / x.std(dim=(1, 2, 3))  # brightness
    assert (moved.abs() <= 0.3 + 1e-5).all() and moved.std() > 0.05
    grey_rgb = torch.rand(16, 1, 6, 6).expand(-1, 3, -1, -1)
    coloured = _drawn(grey_rgb, 1, False, 0.0, 0, 0.0, 0.5)
    assert torch.allclose(coloured[:, 0], coloured[:, 1], atol=1e-6)  # saturation leaves a grey image grey
    rgb = torch.rand(16, 3, 6, 6)
    spread = _drawn(rgb, 1, False, 0.0, 0, 0.0, 0.5).std(dim=1) / rgb.std(dim=1)
    assert spread.flatten(1).std(dim=1).max() < 0.05 < spread.mean(dim=(1, 2)).std()  # one factor an image


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("augment_crop", 0.95, "training.augment_crop must be a number from 0 to 0.9, not 0.95"),
        ("augment_crop", "some", "training.augment_crop must be a number from 0 to 0.9, not 'some'"),
        ("augment_jitter", -0.1, "training.augment_jitter must be a number from 0 to 1, not -0.1"),
        ("augment_jitter", True, "training.augment_jitter must be a number from 0 to 1, not True"),
    ],
)
def test_crop_and_jitter_out_of_range_are_refused_in_words(field: str, value, words: str) -> None:
    with pytest.raises(ParameterError) as error:
        TrainingSettings.from_dict({field: value})
    assert str(error.value) == words


def test_crop_and_jitter_are_off_by_default_and_read_back_as_numbers() -> None:
    plain = TrainingSettings()
    assert plain.augment_crop == plain.augment_jitter == 0.0
    read = TrainingSettings.from_dict({"augment_crop": 0, "augment_jitter": 1})
    assert isinstance(read.augment_crop, float) and isinstance(read.augment_jitter, float)


def _project(**training):
    return mlp_project([1, 8, 8], 16, 10, dataset="digits", epochs=2, **training)


def test_the_script_passes_crop_and_jitter_and_its_augment_draws_the_apps_batch() -> None:
    old = generate_script(_project(augment_flip=True, augment_rotation=10.0, augment_shift=1)).source
    assert "inputs = augment(inputs, True, 10.0, 1)\n" in old  # as before crop and jitter existed
    source = generate_script(_project(augment_crop=0.2, augment_jitter=0.25)).source
    assert "inputs = augment(inputs, False, 0.0, 0, 0.2, 0.25)\n" in source
    script, _ = run_as_module(source, "augment-test")  # the module the app trains with, as `import train` gives
    x = torch.rand(32, 3, 16, 16)
    torch.manual_seed(7)
    theirs = script.augment(x, True, 15.0, 2, 0.2, 0.25)
    assert torch.equal(theirs, _drawn(x, 7, True, 15.0, 2, 0.2, 0.25))
    assert not torch.equal(theirs, _drawn(x, 7, True, 15.0, 2))


@pytest.mark.slow
def test_an_exported_run_with_crop_and_jitter_reproduces_the_apps_losses(tmp_path) -> None:
    project = _project(augment_crop=0.3, augment_jitter=0.2, augment_rotation=5.0)
    script = tmp_path / "train_model.py"
    script.write_text(generate_script(project).source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run(
        [sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for lint in (["check"], ["format", "--check"]):  # ruff's defaults, as tests/core/test_export_lint.py
        linted = subprocess.run(
            [sys.executable, "-m", "ruff", *lint, "--isolated", str(script)], capture_output=True, text=True
        )
        assert linted.returncode == 0, linted.stdout
    theirs = json.loads((tmp_path / "history.json").read_text())
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    assert len(theirs) == len(app.history) == 2
    for mine, their in zip(app.history, theirs, strict=True):
        assert abs(mine["loss"] - their["loss"]) <= 1e-6 and abs(mine["val_loss"] - their["val_loss"]) <= 1e-6


def test_the_keras_script_says_crop_and_jitter_are_not_reproduced() -> None:
    """Keras's script applies no augmentation: crop or jitter alone must say so, as flips do."""
    for training in ({"augment_crop": 0.2}, {"augment_jitter": 0.1}, {"augment_flip": True}):
        source = generate_keras_script(_project(**training))
        assert "# Not reproduced in Keras: augmentation (flips, rotations, shifts, crops and colour jitter" in source
    assert "augmentation" not in generate_keras_script(_project())
