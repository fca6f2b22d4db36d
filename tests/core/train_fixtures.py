"""Small projects and data files made on the fly for the dataset, training and script tests."""

from __future__ import annotations

import gzip
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.files.project import Project, load
from core.model.graph import Graph
from core.settings import TrainingSettings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "resources" / "examples"
# The real MNIST files beside the clone (never copied into it). A fresh clone has no ../shared: the tests that
# read them skip, saying so. TORCHCANVAS_TEST_MNIST points the lookup elsewhere (test_without_shared_mnist.py).
MNIST = Path(os.environ.get("TORCHCANVAS_TEST_MNIST") or REPO.parent / "shared" / "data" / "mnist")
MNIST_FILES = ("mnist_10k.npz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
needs_mnist = pytest.mark.skipif(
    not all((MNIST / name).is_file() for name in MNIST_FILES),
    reason=f"needs the shared MNIST files ({', '.join(MNIST_FILES)}) in {MNIST}, which a fresh clone has not",
)


def mlp_project(
    input_shape: list[int], hidden: int, outputs: int, *, extra: tuple[str, ...] = (), **training: Any
) -> Project:
    """Input -> [Flatten] -> Linear(hidden) -> ReLU -> [extra layers] -> Linear(outputs) -> Output."""
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=input_shape)]
    if len(input_shape) > 1:
        nodes.append(graph.add("Flatten", "flatten"))
    nodes += [graph.add("Linear", "fc1", out_features=hidden), graph.add("ReLU", "relu")]
    nodes += [graph.add(kind) for kind in extra]
    nodes += [graph.add("Linear", "fc2", out_features=outputs), graph.add("Output", "out")]
    graph.chain(nodes)
    # The tests' own small run (10 epochs of 64, 10 % validation), whatever the app's defaults are.
    settings = TrainingSettings(**{"device": "cpu", "epochs": 10, "batch_size": 64, "val_fraction": 0.1, **training})
    settings.validate()
    return Project(graph, "Tiny", "", settings)


def example(name: str, **training: Any) -> Project:
    project = load(EXAMPLES / f"{name}.json")
    values = {**project.training.to_dict(), "device": "cpu", **training}
    project.training = TrainingSettings.from_dict(values)
    return project


def write_idx(path: Path, array: np.ndarray) -> Path:
    """An MNIST-format IDX file of unsigned bytes (gzip-compressed when the name ends in .gz)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_images(root: Path, classes: dict[str, int], size: tuple[int, int] = (10, 12), seed: int = 0) -> Path:
    """A folder of small PNGs, one sub-folder per class, each class a different brightness."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 60, (*size, 3)) + 90 * k
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i}.png")
    return root


def write_csv(path: Path, rows: int = 60, seed: int = 0, label: str = "species") -> Path:
    rng = np.random.default_rng(seed)
    lines = [f"a,b,{label},c"]
    for i in range(rows):
        k = i % 3
        a, b, c = rng.normal(k, 0.3, 3)
        lines.append(f"{a:.4f},{b:.4f},{['setosa', 'versicolor', 'virginica'][k]},{c:.4f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def run_script(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    """``source`` run as ``folder/train.py``, in its own process, on the CPU."""
    folder.mkdir()
    (folder / "train.py").write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, env=env, timeout=300, check=False
    )


def assert_script_history_is_the_apps(folder: Path, app_history: list[dict[str, Any]], epochs: int) -> None:
    """The script's history.json in ``folder`` against the app's run: every epoch's loss and val_loss within
    1e-6, its accuracy equal."""
    script = json.loads((folder / "history.json").read_text())
    assert len(script) == len(app_history) == epochs
    for mine, theirs in zip(app_history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert not math.isnan(mine[key]) and abs(mine[key] - theirs[key]) <= 1e-6, (key, mine, theirs)
        assert mine["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-9)
