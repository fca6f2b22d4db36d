"""Review 5, R1: an image folder too big for memory (ImageNet: 1.28 million pictures, 770 GB as float32) was read
whole into one tensor by the exported script, and moved to the device whole, while the app read it batch by batch
through a DataLoader. Where the app streams the folder (too big for memory, or not on this computer, like the
resnet18 example's imagenet/train) the script now does too: a Dataset per split reading each picture when a batch
needs it (``core.portable.image_stream``, the app's own code) and DataLoaders, with the app's numbers. A folder that
fits in memory keeps the short in-memory script."""

from __future__ import annotations

import inspect
import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest
import torch

import core.datasets.folder as folder_module
from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from core.portable import lean
from core.pretrained.catalog import cache_path
from core.training import Trainer
from tests.core.train_fixtures import example, mlp_project, write_images

WHOLE_FOLDER = "[t.to(device) for t in data]"  # the in-memory script moves every split to the device whole


def _too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few dozen pictures count as too big for memory, for the app and the export alike."""
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)


def _streams(source: str) -> bool:
    return "class ImageFiles(Dataset):" in source and "train_loader = DataLoader(" in source


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False)


def test_a_big_folder_script_reads_pictures_batch_by_batch(tmp_path, monkeypatch) -> None:
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 12, "light": 12})
    source = generate_script(mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}")).source
    assert _streams(source)
    assert "shuffle=True" in source and "generator=torch.Generator().manual_seed(SEED)" in source
    assert "val_loader = DataLoader(val_set" in source and "test_loader = DataLoader(test_set" in source
    assert "evaluate(model, val_loader, loss_fn, device)" in source  # a class loss: no loss name
    assert "batches = ((x.to(device), y.to(device)) for x, y in train_loader)" in source
    for whole in ("np.stack", "load_image_folder", "def prepare(", WHOLE_FOLDER, ".to(device) for t in"):
        assert whole not in source, whole


def test_a_small_folder_keeps_the_in_memory_script(tmp_path) -> None:
    pictures = write_images(tmp_path / "pictures", {"dark": 12, "light": 12})
    project = mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}")
    source = generate_script(project).source
    assert not _streams(source) and "import DataLoader" not in source and "ImageFiles" not in source
    assert "raw = load_image_folder(IMAGE_FOLDER, (6, 6), 3)" in source and WHOLE_FOLDER in source
    assert Trainer(project, save=False)._load_data().in_memory  # as the app reads it


def test_the_resnet18_example_streams_the_folder_its_docstring_names() -> None:
    """Its IMAGE_FOLDER, imagenet/train, is not on this computer: the script streams it, as the app would a folder
    of that size; the first line said "the image folder train/"."""
    source = generate_script(example("resnet18")).source
    first = source.splitlines()[0]
    assert 'IMAGE_FOLDER = "imagenet/train"' in source
    assert "the image folder imagenet/train/," in first, first
    assert _streams(source) and "load_image_folder" not in source and WHOLE_FOLDER not in source


def _crop_project(dataset: str) -> Any:
    weights = str(cache_path(get_weight("ResNet18_Weights.IMAGENET1K_V1").url))  # nothing is read from it
    return mlp_project([3, 224, 224], 4, 2, dataset=dataset, initial_weights=weights, normalize=False)


def get_weight(name: str) -> Any:
    from torchvision.models import get_weight as torchvision_weight

    return torchvision_weight(name)


VARIANTS: list[dict[str, Any]] = [
    {},
    {"device": "auto", "amp": True, "grad_clip": 1.0},
    {"distributed": True, "scheduler": "StepLR", "early_stopping": 2, "monitor": "val_accuracy"},
    {"loss": "MSELoss", "optimizer": "SGD", "momentum": 0.9, "scheduler": "OneCycleLR", "augment_flip": True},
    {"loss": "BCEWithLogitsLoss", "distributed": True, "scheduler": "OneCycleLR", "val_fraction": 0.0},
]


def test_every_streamed_script_passes_ruff_with_its_defaults(tmp_path, monkeypatch) -> None:
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    out = tmp_path / "scripts"
    out.mkdir()
    projects = [mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", **variant) for variant in VARIANTS]
    projects += [_crop_project(f"folder:{tmp_path / 'elsewhere'}"), example("resnet18", distributed=True)]
    for i, project in enumerate(projects):
        source = generate_script(project).source
        assert _streams(source), i
        (out / f"stream_{i}.py").write_text(source)
        compile(source, f"stream_{i}.py", "exec")
    crop = (out / f"stream_{len(VARIANTS)}.py").read_text()
    assert "ImageFiles(part, (224, 224), 3, INPUT_SHAPE, RESIZE_CROP)" in crop and "def crop_image(" in crop
    keras = generate_keras_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}"))
    assert "ImageFiles" in keras and "load_image_folder(" not in keras  # Keras streams it too (test_keras_stream)
    (out / "keras.py").write_text(keras)
    check = _ruff("check", "--isolated", "--no-cache", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--diff", str(out))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


CASES: dict[str, dict[str, Any]] = {
    "adam": {"epochs": 2, "batch_size": 8, "val_fraction": 0.2},
    "mse_onecycle_augment_no_val": {
        "epochs": 2,
        "batch_size": 5,
        "val_fraction": 0.0,
        "loss": "MSELoss",
        "optimizer": "SGD",
        "momentum": 0.9,
        "scheduler": "OneCycleLR",
        "augment_flip": True,
        "augment_shift": 1,
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_the_streamed_script_gives_the_app_numbers(tmp_path, monkeypatch, case: str) -> None:
    """Run as its own process (CPU), the script's per-epoch losses are the app's within 1e-6, as every exported
    script's are (tests/core/test_script.py): the same split, statistics, batch order and evaluation."""
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 14, "light": 14})
    project = mlp_project([3, 6, 6], 16, 2, extra=("Dropout",), dataset=f"folder:{pictures}", **CASES[case])
    run = tmp_path / "run"
    run.mkdir()
    source = generate_script(project).source
    assert _streams(source)
    (run / "train.py").write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=run, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    script = json.loads((run / "history.json").read_text())
    assert len(script) == len(app.history) == project.training.epochs
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            if math.isnan(mine[key]):  # no validation split: nan in both
                assert math.isnan(theirs[key]), (case, key)
                continue
            assert abs(mine[key] - theirs[key]) <= 1e-6, (case, mine["epoch"], key, mine[key], theirs[key])
        assert mine["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-9)
        assert mine["lr"] == pytest.approx(theirs["lr"], rel=1e-12)


def test_the_in_memory_evaluate_says_nan_for_an_empty_split_in_plain_code() -> None:
    """R16: ``n = len(x) or float("nan")`` divided by nan to say "no samples"; the return says it now, in no more
    lines (the MNIST CNN script is held to 150)."""
    text = inspect.getsource(lean.evaluate)
    assert 'or float("nan")' not in text and 'if n else (float("nan"), float("nan"))' in text
    model = torch.nn.Linear(2, 2)
    empty = lean.evaluate(model, torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64), torch.nn.CrossEntropyLoss(), 4)
    assert all(math.isnan(value) for value in empty)


@pytest.mark.slow
def test_the_streamed_distributed_script_runs_alone_and_on_two_processes(tmp_path, monkeypatch) -> None:
    """Under torchrun each process reads its shard through a DistributedSampler. 25 training pictures do not divide
    by 2: without drop_last one process took a 13th picture, a 4th batch, and OneCycleLR, sized for 3 steps, stopped
    the job ("Tried to step 7 times")."""
    _too_big(monkeypatch)
    pictures = write_images(tmp_path / "pictures", {"dark": 16, "light": 15})  # 25 train, 3 val, 3 test
    settings = {"epochs": 2, "batch_size": 8, "scheduler": "OneCycleLR", "optimizer": "SGD", "momentum": 0.9}
    project = mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}", distributed=True, **settings)
    histories = []
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    for name, launch in (("one", [sys.executable]), ("two", [*TORCHRUN, "--standalone", "--nproc_per_node=2"])):
        run = tmp_path / name
        run.mkdir()
        (run / "train.py").write_text(generate_script(project).source)
        done = subprocess.run(
            [*launch, "train.py"], cwd=run, capture_output=True, text=True, env=env, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        histories.append(json.loads((run / "history.json").read_text()))
    assert [len(history) for history in histories] == [2, 2]
    assert all(math.isfinite(row["val_loss"]) for history in histories for row in history)


TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
