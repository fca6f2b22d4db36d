"""Issue 24: the exported training script holds only what the project uses, so a beginner reads it in one
sitting: the MNIST MLP on an ``.npz`` file and the MNIST CNN each fit in 150 lines; torchrun/DDP lines only
with the ``distributed`` setting, mixed precision only where the device can be CUDA, no ``predict``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.errors import ParameterError
from core.settings import TrainingSettings
from tests.core.train_fixtures import example

MOST_LINES = 150


def _npz(tmp_path: Path, samples: int = 60) -> Path:
    """A small MNIST-like file: uint8 28x28 digits and uint8 labels, with a test split."""
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist_small.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8),
        y_train=(np.arange(samples) % 10).astype(np.uint8),
        x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_test=(np.arange(20) % 10).astype(np.uint8),
    )
    return path


def test_mnist_mlp_on_npz_and_mnist_cnn_fit_in_150_lines(tmp_path) -> None:
    npz = _npz(tmp_path)
    sizes = {
        "mnist_mlp (npz)": generate_script(example("mnist_mlp", device="auto", dataset=f"npz:{npz}")).source,
        "mnist_cnn": generate_script(example("mnist_cnn", device="auto")).source,
    }
    counts = {name: len(source.splitlines()) for name, source in sizes.items()}
    print("exported script lines:", counts)
    for name, count in counts.items():
        assert count <= MOST_LINES, f"{name}: {count} lines"


@pytest.mark.slow  # the script trains in a child process: seconds
def test_the_npz_script_holds_only_what_the_project_uses_and_runs(tmp_path) -> None:
    source = generate_script(example("mnist_mlp", device="auto", dataset=f"npz:{_npz(tmp_path)}", epochs=1)).source
    assert "np.load(DATA_FILE, allow_pickle=False)" in source
    for unused in ("DDP", "torchrun", "dist.", "predict", "preprocess", "resize_images", "to_target", "one_hot"):
        assert unused not in source, unused
    for unused in (
        "permute",
        "end_epoch",
        "best",
        "progress_line",
        "read_npz",
        "check_npz_member",
        "// world",
        "yield",
    ):
        assert unused not in source, unused
    assert "torch.no_grad()" in source and "model.eval()" in source
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "train.py").write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Epoch 1/1" in done.stdout and "test accuracy" in done.stdout
    assert len(json.loads((folder / "history.json").read_text())) == 1


@pytest.mark.slow  # the script runs in a child process (imports torch): seconds
def test_a_pickled_npz_is_refused_in_plain_words(tmp_path) -> None:
    bad = tmp_path / "objects.npz"
    np.savez(bad, x_train=np.array([{"a": 1}] * 3, dtype=object), y_train=np.arange(3))
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "train.py").write_text(generate_script(example("mnist_mlp", dataset=f"npz:{bad}")).source)
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "Cannot load" in done.stderr and "Traceback" not in done.stderr


def test_torchrun_lines_only_with_the_distributed_setting() -> None:
    plain = generate_script(example("digits_mlp")).source
    assert "DDP" not in plain and "torch.distributed" not in plain and "WORLD_SIZE" not in plain
    spread = generate_script(example("digits_mlp", distributed=True)).source
    for piece in ("DDP(model)", "dist.init_process_group", "dist.all_reduce", "torchrun --nproc_per_node"):
        assert piece in spread, piece
    counted = generate_script(example("digits_mlp", distributed=True, scheduler="OneCycleLR")).source
    # review 6 S19: issue 24 named math.ceil(len(x_train) // world / batch_size), // and / in one line, to remove
    assert "share = len(x_train) // world" in counted and "math.ceil(share / batch_size)" in counted
    assert "a step learns from BATCH_SIZE samples" in counted  # the per-process batch says what it keeps


def test_mixed_precision_lines_only_where_the_device_can_be_cuda() -> None:
    for device, expected in (("auto", True), ("cuda", True), ("cpu", False), ("mps", False)):
        source = generate_script(example("mnist_cnn", device=device, amp=True)).source
        assert ("GradScaler" in source) is expected, device
        assert ("autocast" in source) is expected, device


def test_distributed_setting_defaults_to_off_and_is_checked() -> None:
    assert TrainingSettings.from_dict({}).distributed is False  # older project files
    assert TrainingSettings.from_dict({"distributed": True}).distributed is True
    with pytest.raises(ParameterError, match="distributed"):
        TrainingSettings.from_dict({"distributed": "yes"})


@pytest.mark.parametrize(
    "case", ["npz_truncated", "npz_damaged_member", "npy_renamed", "npz_objects", "npz_pickle", "npz_text"]
)
@pytest.mark.slow  # the script runs in a child process (imports torch): seconds each
def test_the_short_npz_loader_names_a_file_it_cannot_read(tmp_path, case: str) -> None:
    """np.load(allow_pickle=False) refuses these; the script says so in one line naming the file (the app's
    loader, checked in test_bad_data, says more: the short loader does not repeat its checks)."""
    from tests.core.test_bad_data import CORPUS

    spec, _ = CORPUS[case](tmp_path)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "train.py").write_text(generate_script(example("mnist_mlp", dataset=spec)).source)
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"Cannot load {spec.removeprefix('npz:')}: ") and done.stderr.count("\n") == 1


@pytest.mark.slow  # the script runs twice in a child process (imports torch): seconds
def test_a_missing_npz_is_exported_with_a_note_and_the_loader_that_turns_colour_grey(tmp_path) -> None:
    """The file may be on the computer the script runs on, grey or in colour: export writes the script (check and
    train refuse it here) with the general loader, which turns colour grey as the app does; run where the file is
    missing, the script names it in one line."""
    from core.files.export import export

    data = tmp_path / "elsewhere.npz"
    folder = tmp_path / "run"
    folder.mkdir()
    result = export(example("mnist_mlp", dataset=f"npz:{data}", epochs=1), "script", folder / "train.py")
    assert f"note: {data} is not on this computer" in result.details
    assert "def prepare(" in (folder / "train.py").read_text()
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(data) in done.stderr and done.stderr.count("\n") == 1, done.stderr
    rng = np.random.default_rng(0)  # the file arrives, in colour, where the script runs
    np.savez(data, x_train=rng.integers(0, 256, (30, 28, 28, 3), dtype=np.uint8), y_train=np.arange(30) % 10)
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("with_test", [True, False])
def test_the_short_npz_loader_gives_the_apps_splits(tmp_path, with_test: bool) -> None:
    """The same six tensors as the app's loader (core.datasets), bit for bit: the short split reshapes before
    it splits and normalises, the app after."""
    from core.datasets import load_for_settings

    npz = _npz(tmp_path)
    if not with_test:
        arrays = dict(np.load(npz))
        np.savez(npz, x_train=arrays["x_train"], y_train=arrays["y_train"])
    project = example("mnist_mlp", dataset=f"npz:{npz}")
    namespace: dict = {"__name__": "exported"}
    exec(compile(generate_script(project).source, "train.py", "exec"), namespace)
    mine = namespace["load_data"]()
    app = load_for_settings(project.training, input_shape=(1, 28, 28))
    names = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    for name, tensor in zip(names, mine, strict=True):
        assert torch.equal(tensor, getattr(app, name)), name
