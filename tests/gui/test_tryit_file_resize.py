"""Try it resizes an opened image file as the training resized its image files (review 7, T3): the file was
resized with torch (bilinear, on floats) while the image-folder loader resizes with Pillow, so the network saw
pixels up to ~0.06 away from what the same file gave the training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.datasets import load_for_settings
from core.files.built_model import build_model
from core.portable.images import load_image_folder
from gui.training.tryit import TryItView
from tests.core.train_fixtures import mlp_project


def test_an_opened_file_reaches_the_network_as_the_training_read_it(qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    rng = np.random.default_rng(5)
    for name in ("cat", "dog"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for k in range(3):
            pixels = rng.integers(0, 256, size=(30, 44, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(tmp_path / "pets" / name / f"{k}.png")
    project = mlp_project([3, 12, 16], 8, 2, dataset=f"folder:{tmp_path / 'pets'}", test_fraction=0.5)
    data = load_for_settings(project.training, (3, 12, 16))
    run = tmp_path / "run"
    run.mkdir()
    torch.save(build_model(project).module.state_dict(), run / "last.pt")
    view = TryItView()
    qtbot.addWidget(view)
    view.set_run(project, run, data)
    assert view.load(), view.note.text()
    trained, *_ = load_image_folder(str(tmp_path / "pets"), (12, 16), 3)  # the training's pixels of each file
    for k, file in enumerate(sorted((tmp_path / "pets").glob("*/*.png"))):
        with qtbot.waitSignal(view.predicted, timeout=10_000):
            view.load_image(str(file))
        np.testing.assert_allclose(view.seen_input, trained[k].numpy(), atol=1e-6)
        assert view.true_label.text() == file.name
