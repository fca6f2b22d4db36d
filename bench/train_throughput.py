"""Training throughput of the MNIST MLP (784-512-10, RMSprop lr 1e-3, batch 128) on mnist_10k.npz, three ways:

1. the TorchCanvas trainer (resources/examples/mnist_mlp.json, run folder and events included),
2. a plain hand-written loop over tensors pre-loaded in memory,
3. the classic per-sample ``ToTensor`` + ``Normalize`` + ``DataLoader`` loop.

Each is timed per epoch over its training steps only (data loading included for the DataLoader loop, since
that is where it spends its time), ``--rounds`` times interleaved; the fastest and the median epoch of each are
compared (the fastest keeps other programs' bursts of CPU use out of the comparison). Usage:
``python bench/train_throughput.py [--epochs 5] [--rounds 3] [--device cpu|cuda] [--no-amp]``.
Targets: trainer >= 0.9x the hand-written loop and >= 2x the classic loop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parents[1].parent / "shared/data/mnist"
NPZ = DATA / "mnist_10k.npz"
BATCH, LR = 128, 1e-3


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def run_trainer(epochs: int, device: str, amp: bool) -> tuple[list[float], float]:
    from core.files.project import load
    from core.training import Trainer

    project = load(ROOT / "resources/examples/mnist_mlp.json")
    project.training.dataset = f"npz:{NPZ}"
    project.training.epochs = epochs
    project.training.device = device
    project.training.amp = amp
    with tempfile.TemporaryDirectory() as out:
        result = Trainer(project, out_dir=out).run()
    if result.status != "finished":
        raise SystemExit(f"trainer failed: {result.message}")
    n = result.summary["train_samples"]
    return [n / row["seconds"] for row in result.history], result.test_accuracy or 0.0


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    with np.load(NPZ) as d:
        return d["x_train"], d["y_train"].astype(np.int64)


def run_hand_written(epochs: int, device: str) -> list[float]:
    """What a PyTorch engineer writes for data that fits in memory."""
    images, labels = _arrays()
    dev = torch.device(device)
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    x = ((x - x.mean()) / x.std()).to(dev)
    y = torch.tensor(labels).to(dev)
    torch.manual_seed(0)
    model = mlp().to(dev)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=LR)
    rates = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(x), device=dev)
        total = 0.0
        for first in range(0, len(x), BATCH):
            batch = order[first : first + BATCH]
            outputs = model(x[batch])
            loss = loss_fn(outputs, y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        rates.append(len(x) / (time.perf_counter() - started))
    return rates


def run_classic(epochs: int, device: str) -> list[float]:
    """The tutorial loop: a per-sample Dataset with ToTensor + Normalize, batched by a DataLoader."""
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    images, labels = _arrays()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])

    class Digits(Dataset):
        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return transform(images[i]), int(labels[i])

    dev = torch.device(device)
    loader = DataLoader(Digits(), batch_size=BATCH, shuffle=True)
    torch.manual_seed(0)
    model = mlp().to(dev)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=LR)
    rates = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        for inputs, targets in loader:
            inputs, targets = inputs.to(dev), targets.to(dev)
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        rates.append(len(images) / (time.perf_counter() - started))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-amp", action="store_true", help="trainer without mixed precision (CUDA)")
    args = parser.parse_args()
    if not NPZ.exists():
        print(f"missing {NPZ}", file=sys.stderr)
        return 1
    rates: dict[str, list[float]] = {"trainer": [], "hand": [], "classic": []}
    accuracy = 0.0
    run_trainer(1, args.device, not args.no_amp)  # warm-up: first-use costs stay out of the figures
    run_hand_written(1, args.device)
    run_classic(1, args.device)
    for _ in range(args.rounds):
        epoch_rates, accuracy = run_trainer(args.epochs, args.device, not args.no_amp)
        rates["trainer"] += epoch_rates
        rates["hand"] += run_hand_written(args.epochs, args.device)
        rates["classic"] += run_classic(args.epochs, args.device)
    best = {k: max(v) for k, v in rates.items()}
    median = {k: statistics.median(v) for k, v in rates.items()}
    amp = "" if args.device == "cpu" else (" (no AMP)" if args.no_amp else " (AMP)")
    print(
        f"MNIST MLP on mnist_10k.npz, {args.epochs} epochs x {args.rounds} rounds, batch {BATCH}, device "
        f"{args.device}{amp}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print("                           fastest epoch      median epoch   (samples/s)")
    for key, label in (
        ("trainer", "TorchCanvas trainer"),
        ("hand", "hand-written, in memory"),
        ("classic", "classic DataLoader"),
    ):
        print(f"  {label:<24} {best[key]:>12,.0f}  {median[key]:>16,.0f}")
    print(f"  test accuracy of the trainer's model: {accuracy:.4f}")
    for a, b, target in (
        ("trainer", "hand", " (target >= 0.9x)"),
        ("trainer", "classic", " (target >= 2x)"),
        ("hand", "classic", ""),
    ):
        print(f"  {a} / {b}: {best[a] / best[b]:.2f}x fastest, {median[a] / median[b]:.2f}x median{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
