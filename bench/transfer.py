"""Transfer learning on real data, offline, through the app's own Trainer: does a network pretrained on MNIST learn
the bundled ``digits`` set (another collection of handwritten digits, 8x8, resized to 28x28 by the app's resize)
from a few images per class better than the same network from scratch?

1. Pretrain a small CNN (a TorchCanvas project: its graph, its generated script, ``core.training.Trainer``) on the
   10,000 real MNIST digits of ``../shared/data/mnist/mnist_10k.npz`` (read in place, never copied).
2. For 2, 5 and 10 images per class of ``digits`` (a stratified draw per seed; the rest of ``digits`` is the test
   split), train the same number of steps three ways: (a) scratch: fresh weights, every layer trains; (b) frozen:
   ``training.initial_weights`` = the pretraining run (loaded by name; the head is a new node, ``new_head``, so its
   weights are fresh), every node before it frozen (``trainable`` off: "Freeze everything before this");
   (c) two phases: as (b) for half the epochs (``freeze_epochs``), then every layer at lr x ``unfreeze_lr_factor``.
3. The mean of 3 seeds of each; ends with one line ``transfer: scratch=0.xxx frozen=0.xxx two_phase=0.xxx`` (the
   5-per-class means).

Every run is the app's: Adam at lr 3e-3, batch 32, no normalisation (pixels in [0, 1] on both sets).
Usage: ``python bench/transfer.py [--seeds 3] [--steps 150] [--pretrain-epochs 2] [--fit mnist|resize]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MNIST = ROOT.parent / "shared/data/mnist/mnist_10k.npz"
SHOTS = (2, 5, 10)
METHODS = ("scratch", "frozen", "two_phase")
BATCH, LR = 32, 3e-3  # the same for every method (pretraining included)


def cnn_project(head: str, training: dict):
    """Input -> two conv stages -> Linear 64 -> ``head`` Linear 10 -> Output, as a project the Trainer runs."""
    from core.files.project import Project
    from core.model.graph import Graph
    from core.settings import TrainingSettings

    graph = Graph()
    graph.chain(
        [
            graph.add("Input", "x", shape=[1, 28, 28]),
            graph.add("Conv2d", "conv1", out_channels=8, kernel_size=3, padding=1),
            graph.add("ReLU", "relu1"),
            graph.add("MaxPool2d", "pool1", kernel_size=2),
            graph.add("Conv2d", "conv2", out_channels=16, kernel_size=3, padding=1),
            graph.add("ReLU", "relu2"),
            graph.add("MaxPool2d", "pool2", kernel_size=2),
            graph.add("Flatten", "flatten"),
            graph.add("Linear", "fc1", out_features=64),
            graph.add("ReLU", "relu3"),
            graph.add("Linear", head, out_features=10),
            graph.add("Output", "output"),
        ]
    )
    settings = {"optimizer": "Adam", "lr": LR, "batch_size": BATCH, "device": "cpu", "normalize": False}
    return Project(graph, "transfer CNN", training=TrainingSettings.from_dict({**settings, **training}))


def train(project, data=None, out_dir: Path | None = None):
    from core.training import Trainer

    result = Trainer(project, data=data, out_dir=out_dir, save=out_dir is not None).run()
    if result.status != "finished":
        raise SystemExit(f"transfer: the run failed: {result.message}")
    return result


def pretrain(epochs: int, folder: Path) -> Path:
    """The CNN trained on MNIST by the app; returns its run folder (its last.pt is the weights)."""
    project = cnn_project("head", {"dataset": f"npz:{MNIST}", "epochs": epochs, "val_fraction": 0.1, "seed": 0})
    result = train(project, out_dir=folder)
    print(f"pretrained on MNIST ({epochs} epochs): test accuracy {result.test_accuracy:.3f} on its 2,000 test digits")
    assert result.run_dir is not None
    return Path(result.run_dir)


def all_digits() -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """The 1,797 digits as the app loads them (8x8, values in [0, 1]), unsplit."""
    from core.datasets import load_dataset

    data = load_dataset("digits", val_fraction=0.0, test_fraction=0.0, normalize=False, input_shape=(1, 8, 8))
    assert data.x_train is not None and data.y_train is not None
    return data.x_train, data.y_train, data.class_names


def few_shot(x, y, names, per_class: int, seed: int, fit: str):
    """``per_class`` images of each digit to train on, every other one to test on, made 28x28 for the network:
    ``fit="mnist"`` resizes to 20x20 (the app's resize) and centres that on 28x28, as MNIST's digits are drawn;
    ``fit="resize"`` resizes straight to 28x28 (the digit fills the frame)."""
    import torch.nn.functional as F

    from core.datasets.base import finish
    from core.datasets.spec import parse_spec

    rng = np.random.default_rng(seed)
    labels = y.numpy()
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)])
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    raw = (x[chosen], y[chosen], x[rest], y[rest], names)
    size = 20 if fit == "mnist" else 28
    data = finish(
        raw, parse_spec("digits"), "digits", seed=seed, val_fraction=0.0, test_fraction=0.0, normalize=False,
        input_shape=(1, size, size), resize=(size, size),
    )  # fmt: skip
    if fit == "mnist":
        for split in ("x_train", "x_val", "x_test"):
            setattr(data, split, F.pad(getattr(data, split), (4, 4, 4, 4)))
        data.input_shape = (1, 28, 28)
    return data


def run(method: str, weights: Path, data, seed: int, steps: int) -> float:
    epochs = max(1, round(steps / math.ceil(data.count("train") / BATCH)))
    training = {"dataset": "digits", "epochs": epochs, "seed": 1000 + seed, "val_fraction": 0.0}
    if method != "scratch":
        training["initial_weights"] = str(weights)  # the backbone by name; new_head is new
    if method == "two_phase":
        training |= {"freeze_epochs": epochs // 2, "unfreeze_lr_factor": 0.1}
    project = cnn_project("new_head" if method != "scratch" else "head", training)
    graph = project.graph
    if method != "scratch":
        head = graph.by_name("new_head")
        assert head is not None
        for node_id in graph.upstream(head.id):
            graph.node(node_id).trainable = False
    result = train(project, data=data)
    assert result.test_accuracy is not None
    return float(result.test_accuracy)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150, help="training steps of each few-shot run")
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument(
        "--fit", choices=("mnist", "resize"), default="mnist",
        help="digits made 28x28: resized to 20x20 and centred as MNIST's digits are (default), or resized to 28x28",
    )  # fmt: skip
    args = parser.parse_args()
    if not MNIST.is_file():
        print(f"transfer: {MNIST} is missing (the real MNIST test set, see ../shared/data/mnist/README.md)")
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="torchcanvas-transfer-") as tmp:
        weights = pretrain(args.pretrain_epochs, Path(tmp))
        x, y, names = all_digits()
        table: dict[tuple[int, str], float] = {}
        for shots in SHOTS:
            scores: dict[str, list[float]] = {m: [] for m in METHODS}
            for seed in range(args.seeds):
                data = few_shot(x, y, names, shots, seed, args.fit)
                for method in METHODS:
                    scores[method].append(run(method, weights, data, seed, args.steps))
            for method in METHODS:
                table[shots, method] = float(np.mean(scores[method]))
            cells = "  ".join(f"{m} {table[shots, m]:.3f} (±{np.std(scores[m]):.3f})" for m in METHODS)
            print(f"{shots:>2} per class ({10 * shots} images, tested on the other {len(y) - 10 * shots}): {cells}")
    print()
    print("| images per class | scratch | frozen backbone + new head | two phases |")
    print("| ---: | ---: | ---: | ---: |")
    for shots in SHOTS:
        print(f"| {shots} | " + " | ".join(f"{table[shots, m]:.3f}" for m in METHODS) + " |")
    took = time.perf_counter() - started
    print(f"\n{args.seeds} seeds, {args.steps} steps each, lr {LR}, fit {args.fit}, {took:.0f} s in all")
    print(" ".join(["transfer:", *(f"{m}={table[5, m]:.3f}" for m in METHODS)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
