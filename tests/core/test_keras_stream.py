"""Review 7, T2 (review 5's R1 in the Keras twin): where the PyTorch script reads an image folder too big for memory
batch by batch (``core.datasets.folder.streams``), the Keras script stacked the whole folder into one array
(``load_image_folder`` ... ``np.stack``): 1.58 GB of float32 and copies for review 7's img_big. It now has the PyTorch
script's Dataset per split, split and normalisation word for word (``core.portable.image_stream``), and gives
``fit``/``evaluate`` DataLoaders (Keras 3 on the torch backend reads them), channels-first as the Keras scripts are.
A folder that fits in memory keeps the in-memory Keras script."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest

import core.datasets.folder as folder_module
from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from tests.core.train_fixtures import example, mlp_project, write_images

# what reading the folder whole looks like in the Keras script: every picture stacked, the splits made arrays
WHOLE_FOLDER = ("load_image_folder", "np.stack", "[t.numpy() for t in data]", "def prepare(")
SHARED = ("ImageFiles", "split_files", "normalize_splits", "load_data")  # the PyTorch script's, word for word


def _too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few dozen pictures count as too big for memory, for the app and the exports alike."""
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)


def _definitions(source: str) -> dict[str, str]:
    """name -> text of each top-level function and class of a script."""
    tree = ast.parse(source)
    kinds = (ast.FunctionDef, ast.ClassDef)
    return {n.name: ast.get_source_segment(source, n) or "" for n in tree.body if isinstance(n, kinds)}


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False)


def test_a_big_folders_keras_script_reads_pictures_batch_by_batch(tmp_path, monkeypatch) -> None:
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 12, "light": 12})
    project = mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}")
    keras = generate_keras_script(project)
    for whole in WHOLE_FOLDER:
        assert whole not in keras, whole
    assert "train_set, val_set, test_set = data" in keras
    assert "shuffle=True" in keras and "generator=torch.Generator().manual_seed(SEED)" in keras
    assert "model.fit(\n        train_loader,\n        shuffle=False,  # train_loader shuffles" in keras
    assert "validation_data=val_loader," in keras and "model.evaluate(test_loader, verbose=0)" in keras
    assert "len(train_set) * epochs / seconds" in keras
    mine, theirs = _definitions(keras), _definitions(generate_script(project).source)
    for name in SHARED:
        assert mine[name] == theirs[name], name


def test_a_small_folder_keeps_the_in_memory_keras_script(tmp_path) -> None:
    pictures = write_images(tmp_path / "pictures", {"dark": 12, "light": 12})
    keras = generate_keras_script(mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}"))
    assert "raw = load_image_folder(IMAGE_FOLDER, (6, 6), 3)" in keras and "[t.numpy() for t in data]" in keras
    for streamed in ("ImageFiles", "DataLoader", "train_loader", "target_batch", "functools"):
        assert streamed not in keras, streamed


VARIANTS: list[dict[str, Any]] = [
    {},
    {"loss": "MSELoss", "val_fraction": 0.0, "optimizer": "SGD", "momentum": 0.9},  # targets batch by batch
    {"loss": "BCEWithLogitsLoss", "scheduler": "StepLR", "early_stopping": 2, "monitor": "val_accuracy"},
    {"loss": "NLLLoss", "scheduler": "ReduceLROnPlateau", "augment_flip": True, "grad_clip": 1.0},
]


def test_every_streamed_keras_script_passes_ruff_with_its_defaults(tmp_path, monkeypatch) -> None:
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    grey = write_images(tmp_path / "grey", {"dark": 6, "light": 6}, size=(28, 28))
    out = tmp_path / "scripts"
    out.mkdir()
    projects = [mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", **variant) for variant in VARIANTS]
    projects.append(example("mnist_cnn", dataset=f"folder:{grey}"))  # convolutions, channels-first
    for i, project in enumerate(projects):
        source = generate_keras_script(project)
        assert "class ImageFiles(Dataset):" in source and "train_loader = DataLoader(" in source, i
        assert not [whole for whole in WHOLE_FOLDER if whole in source], i
        (out / f"keras_{i}.py").write_text(source)
    mse = (out / "keras_1.py").read_text()
    assert "collate_fn=collate" in mse and "def target_batch(" in mse
    assert "validation_data=val_loader if len(val_set) else None," in mse  # an empty split: None, as in memory
    check = _ruff("check", "--isolated", "--no-cache", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--diff", str(out))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


CASES: dict[str, dict[str, Any]] = {
    "classes": {"batch_size": 8, "val_fraction": 0.2},
    "mse_no_validation": {"batch_size": 5, "val_fraction": 0.0, "loss": "MSELoss"},
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_the_streamed_keras_script_runs_end_to_end(tmp_path, monkeypatch, case: str) -> None:
    """Run as its own process on 30 small PNGs, one epoch: it trains, tests and saves, and Keras has nothing to
    warn about (no ignored ``shuffle=True``, no empty validation DataLoader that "ran out of data")."""
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 15, "light": 15})
    project = mlp_project([3, 10, 12], 16, 2, dataset=f"folder:{pictures}", epochs=1, **CASES[case])
    run = tmp_path / "run"
    run.mkdir()
    source = generate_keras_script(project)
    assert "EPOCHS = 1" in source and "train_loader = DataLoader(" in source
    (run / "train_keras.py").write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "train_keras.py"], cwd=run, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "test accuracy" in done.stdout and "Traceback" not in output
    assert "ran out of data" not in output and "will be ignored" not in output, output
    result = json.loads((run / "keras_history.json").read_text())
    assert len(result["history"]["loss"]) == 1 and math.isfinite(result["history"]["loss"][0])
    assert ("val_loss" in result["history"]) == (CASES[case]["val_fraction"] > 0)
    assert math.isfinite(result["test_loss"]) and 0.0 <= result["test_accuracy"] <= 1.0
    assert (run / "keras_model.weights.h5").is_file()
