"""Few-shot specs (``:classes=...,per_class=N``, issue 27) for text and for an image folder too big for memory:
both were refused when Train loaded them ("work on data read into memory; this source is not") while check, the
survey and the exported script took them. Now the app keeps the very samples the exported script keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.code.script import generate_script
from core.datasets import folder, load_for_settings
from core.training.setup import run_as_module
from tests.core.test_text import embedding_project
from tests.core.train_fixtures import mlp_project


def _app_and_script(project: object, shape: tuple[int, ...]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    dtype = project.graph.nodes[0].params.get("dtype")  # type: ignore[attr-defined]
    data = load_for_settings(project.training, shape, input_dtype=dtype)  # type: ignore[attr-defined]
    mine = [data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test]
    module, _ = run_as_module(generate_script(project).source)  # type: ignore[arg-type]
    return mine, list(module.load_data())


def test_a_text_folder_keeps_per_class_samples_as_the_script_does(tmp_path: Path) -> None:
    for name in ("neg", "pos", "meh"):
        (tmp_path / "texts" / name).mkdir(parents=True)
        for i in range(8):
            (tmp_path / "texts" / name / f"{i}.txt").write_text(f"{name} words number {i} here")
    spec = f"text:{tmp_path / 'texts'}?max_length=6:classes=0+2,per_class=3"
    project = embedding_project(spec, 6, 40, 2, val_fraction=0.0, test_fraction=0.25)
    mine, script = _app_and_script(project, (6,))
    kept = torch.cat([mine[1], mine[5]]).tolist()  # training and test splits: 3 of meh (0) and of pos (1)
    assert len(mine[0]) == 4 and sorted(kept) == [0, 0, 0, 1, 1, 1]
    for a, b in zip(mine, script):
        assert torch.equal(a, b)


def test_a_folder_too_big_for_memory_keeps_its_few_shot_samples(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, size=(6, 9, 3), dtype=np.uint8)).save(
                tmp_path / "pics" / name / f"{i}.png"
            )
    monkeypatch.setattr(folder, "MAX_IN_MEMORY_BYTES", 1)  # the whole folder would be read lazily
    spec = f"folder:{tmp_path / 'pics'}:classes=1-2,per_class=2"
    project = mlp_project([3, 6, 9], 4, 2, dataset=spec, val_fraction=0.0, test_fraction=0.0)
    mine, script = _app_and_script(project, (3, 6, 9))
    assert len(mine[0]) == 4 and sorted(mine[1].tolist()) == [0, 0, 1, 1]
    for a, b in zip(mine, script):
        assert torch.equal(a, b)
