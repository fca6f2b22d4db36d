"""Try it on a project that starts from torchvision's weights (handover of issue 27): the training brought each
image to the Input by resizing its short side to the weights' resize_size and cutting out the centre square,
but a new image in Try it (a file, a drawing) was squashed straight to the Input, so a non-square photo reached
the network distorted, unlike every image it was trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.models import get_weight

from core.datasets import load_for_settings
from core.files.built_model import build_model
from core.portable.steps import resize_crop, resize_images
from core.pretrained.catalog import cache_path
from gui.training.tryit import TryItView
from tests.core.train_fixtures import mlp_project


def test_a_non_square_image_goes_through_the_training_s_crop(qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    photos = np.random.default_rng(0).integers(0, 256, size=(6, 40, 70, 3), dtype=np.uint8)
    np.savez(tmp_path / "photos.npz", x_train=photos, y_train=np.arange(6) % 2)
    project = mlp_project(
        [3, 224, 224],
        2,
        2,
        dataset=f"npz:{tmp_path / 'photos.npz'}",
        initial_weights=str(cache_path(get_weight("ResNet18_Weights.IMAGENET1K_V1").url)),  # only its name is read
        normalize=False,
        val_fraction=0.0,
        test_fraction=0.5,
        resize=[224, 224],
    )
    data = load_for_settings(project.training, (3, 224, 224))
    assert data.extra["crop"] == (256, 224)
    run = tmp_path / "run"
    run.mkdir()
    torch.save(build_model(project).module.state_dict(), run / "last.pt")
    view = TryItView()
    qtbot.addWidget(view)
    view.set_run(project, run, data)
    assert view.load(), view.note.text()
    trained = view.source.raw_sample(0)  # test sample 0 as the training cropped it
    as_trained = [resize_crop(torch.from_numpy(p).permute(2, 0, 1)[None].float() / 255, 256, 224) for p in photos]
    photo = photos[next(k for k, x in enumerate(as_trained) if np.abs(x[0].numpy() - trained).max() < 1e-5)]
    with qtbot.waitSignal(view.predicted, timeout=10_000):
        view._image_read("photo.png", photo.astype(np.float32) / 255)  # as read_image_file gives a file: [H, W, 3]
    assert np.abs(view.seen_input - trained).max() < 1e-5  # the network sees what the training gave it
    squashed = resize_images(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255, (224, 224))[0].numpy()
    assert np.abs(view.seen_input - squashed).max() > 0.1  # what it saw before
    view.show_test_sample(0)
    assert np.abs(view.seen_input - trained).max() < 1e-6  # a test sample is not cropped again
