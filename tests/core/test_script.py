"""The exported training script: ruff-clean with ruff's defaults, runs from a clean folder, and reproduces
the app's per-epoch losses (run as a separate process, same data and seed, on CPU) within 1e-6."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.code.script import generate_script
from core.files.project import Project
from core.training import Trainer
from tests.core.train_fixtures import (
    EXAMPLES,
    MNIST,
    example,
    mlp_project,
    needs_mnist,
    write_csv,
    write_idx,
    write_images,
)

VARIANTS: list[dict[str, Any]] = [
    {},
    {"optimizer": "SGD", "momentum": 0.9, "nesterov": True, "scheduler": "OneCycleLR", "grad_clip": 1.0},
    {"amp": False, "scheduler": "StepLR", "weight_decay": 0.01, "early_stopping": 3, "monitor": "val_accuracy"},
    {"loss": "MSELoss", "optimizer": "Adadelta", "scheduler": "ReduceLROnPlateau", "resize": [8, 8]},
    {"loss": "BCEWithLogitsLoss", "scheduler": "CosineAnnealingLR", "augment_flip": True, "augment_shift": 2},
]


def _sources(tmp: Path) -> list[str]:
    npz = tmp / "arrays.npz"
    np.savez(npz, x_train=np.zeros((20, 8, 8), np.uint8), y_train=np.arange(20) % 10)
    images = write_idx(tmp / "img.gz", np.zeros((20, 8, 8)))
    labels = write_idx(tmp / "lbl.gz", np.arange(20) % 10)
    return [
        "digits",
        "spirals:samples=100",
        "mnist",
        "cifar10",
        f"npz:{npz}",
        f"idx:{images},{labels}",
        f"csv:{write_csv(tmp / 'table.csv')}:species",
        f"folder:{tmp / 'pictures'}",
    ]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_generated_scripts_pass_ruff_with_default_settings(tmp_path) -> None:
    out = tmp_path / "scripts"
    out.mkdir()
    count = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        for i, variant in enumerate(VARIANTS):
            project = example(path.stem, **variant)
            (out / f"{path.stem}_{i}.py").write_text(generate_script(project).source)
            count += 1
    for j, source in enumerate(_sources(tmp_path)):
        for i, variant in enumerate(VARIANTS[:3]):
            project = example("digits_mlp", dataset=source, **variant)
            (out / f"source{j}_{i}.py").write_text(generate_script(project).source)
            count += 1
    assert count >= 50
    check = _ruff("check", "--isolated", "--no-cache", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--diff", str(out))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    for file in out.iterdir():
        compile(file.read_text(), str(file), "exec")


def test_script_reads_like_pytorch() -> None:
    source = generate_script(example("digits_mlp", device="auto")).source
    for piece in (
        "class Net(nn.Module):",
        "torch.manual_seed(SEED)",
        "model.train()",
        "optimizer.zero_grad()",
        ".backward()",
        "model.eval()",
        "@torch.no_grad()",
        'torch.save(model.state_dict(), "model_weights.pt")',
        "torch.cuda.is_available()",
    ):
        assert piece in source, piece
    # the loop in plain sight, in the order a tutorial teaches it
    order = ["outputs = model(inputs)", "loss = loss_fn(", "optimizer.zero_grad()", ".backward()", ".step(optimizer)"]
    at = [source.index(piece) for piece in order]
    assert at == sorted(at), order
    assert "from core" not in source and "import core" not in source  # standalone: no TorchCanvas import


def test_line_map_points_into_the_model_class() -> None:
    project = example("digits_mlp")
    code = generate_script(project)
    lines = code.source.splitlines()
    fc1 = project.graph.by_name("fc1").id
    assert any("self.fc1 = nn.Linear(64, 128)" in lines[n - 1] for n, nid in code.line_to_node.items() if nid == fc1)


def _start_script(project: Project, folder: Path) -> subprocess.Popen[str]:
    """Run the exported script in a clean folder as its own process (CPU only)."""
    folder.mkdir()
    script = folder / "train_model.py"
    script.write_text(generate_script(project).source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen(
        [sys.executable, script.name], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def _script_history(process: subprocess.Popen[str], folder: Path) -> list[dict[str, Any]]:
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    assert "Epoch 1/" in output and "test accuracy" in output
    assert (folder / "model_weights.pt").exists()
    return json.loads((folder / "history.json").read_text())


def _reproduction_cases(tmp: Path) -> dict[str, Project]:
    images = write_idx(tmp / "img-idx3-ubyte.gz", np.random.default_rng(1).integers(0, 255, (300, 8, 8)))
    labels = write_idx(tmp / "lbl-idx1-ubyte.gz", np.arange(300) % 10)
    pictures = write_images(tmp / "pictures", {"dark": 12, "light": 12})
    return {
        "digits_adam": example("digits_mlp", epochs=3),
        "spirals_sgd_onecycle_clip": example(
            "spirals",
            epochs=3,
            optimizer="SGD",
            momentum=0.9,
            nesterov=True,
            scheduler="OneCycleLR",
            grad_clip=1.0,
            weight_decay=1e-4,
            amp=False,
        ),
        "digits_dropout_augment_plateau": mlp_project(
            [1, 8, 8],
            32,
            10,
            extra=("Dropout",),
            dataset="digits",
            epochs=3,
            augment_flip=True,
            augment_rotation=15.0,
            augment_shift=1,
            scheduler="ReduceLROnPlateau",
            early_stopping=2,
            monitor="val_accuracy",
        ),
        "csv_rmsprop_cosine_mse": mlp_project(
            [3],
            16,
            3,
            dataset=f"csv:{write_csv(tmp / 'table.csv', rows=90)}:species",
            loss="MSELoss",
            optimizer="RMSprop",
            momentum=0.5,
            scheduler="CosineAnnealingLR",
            epochs=3,
            batch_size=16,
        ),
        "idx_steplr_nll": mlp_project(
            [64], 32, 10, dataset=f"idx:{images},{labels}", loss="NLLLoss", scheduler="StepLR", step_size=1, epochs=2
        ),
        "npz_mnist": example("mnist_mlp", dataset=f"npz:{MNIST / 'mnist_10k.npz'}", epochs=1),
        "digits_early_stop_steplr": example(
            "digits_mlp", epochs=8, lr=1e-7, early_stopping=1, monitor="val_accuracy", scheduler="StepLR", step_size=1
        ),
        "folder_adagrad": mlp_project(
            [3, 6, 6], 16, 2, dataset=f"folder:{pictures}", optimizer="Adagrad", lr=0.01, epochs=2, batch_size=8
        ),
    }


CASES = [
    "digits_adam",
    "spirals_sgd_onecycle_clip",
    "digits_dropout_augment_plateau",
    "csv_rmsprop_cosine_mse",
    "idx_steplr_nll",
    pytest.param("npz_mnist", marks=needs_mnist),
    "folder_adagrad",
    "digits_early_stop_steplr",  # both stop at the same epoch: the script's main and the trainer
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_exported_script_reproduces_the_app_run(tmp_path, case: str) -> None:
    project = _reproduction_cases(tmp_path)[case]
    process = _start_script(project, tmp_path / "clean")  # runs while the app trains alongside
    app = Trainer(project, save=False).run()
    script = _script_history(process, tmp_path / "clean")
    assert app.status == "finished", app.message
    assert len(script) == len(app.history) > 0
    if case == "digits_early_stop_steplr":
        assert len(app.history) < project.training.epochs and app.message.startswith("Early stopping")
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(mine[key] - theirs[key]) <= 1e-6, (case, mine["epoch"], key, mine[key], theirs[key])
        assert mine["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-9)
        assert mine["lr"] == pytest.approx(theirs["lr"], rel=1e-12)
