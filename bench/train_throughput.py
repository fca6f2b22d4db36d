"""Training throughput of the MNIST MLP (784-512-10, RMSprop lr 1e-3, batch 128) on mnist_10k.npz, three ways:

1. the TorchCanvas trainer (resources/examples/mnist_mlp.json, run folder and events included),
2. a plain hand-written loop over tensors pre-loaded in memory,
3. the classic per-sample ``ToTensor`` + ``Normalize`` + ``DataLoader`` loop.

Each is timed per epoch over its training steps only (data loading included for the DataLoader loop, since
that is where it spends its time), ``--rounds`` times interleaved; the fastest epoch of each counts, which keeps
other programs' bursts of CPU use out of the comparison. Usage:
``python bench/train_throughput.py [--epochs 5] [--rounds 3] [--device cpu|cuda] [--no-amp]``.
Targets: trainer >= 0.9x the hand-written loop and >= 2x the classic loop.
"""

from __future__ import annotations

import argparse
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


def run_trainer(epochs: int, device: str, amp: bool) -> tuple[float, float]:
    from core.project import load
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
    fastest = min(row["seconds"] for row in result.history)
    return result.summary["train_samples"] / fastest, result.test_accuracy or 0.0


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    with np.load(NPZ) as d:
        return d["x_train"], d["y_train"].astype(np.int64)


def run_hand_written(epochs: int, device: str) -> float:
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
    fastest = float("inf")
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
        fastest = min(fastest, time.perf_counter() - started)
    return len(x) / fastest


def run_classic(epochs: int, device: str) -> float:
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
    fastest = float("inf")
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
        fastest = min(fastest, time.perf_counter() - started)
    return len(images) / fastest


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
    best = {"trainer": 0.0, "hand": 0.0, "classic": 0.0}
    accuracy = 0.0
    for _ in range(args.rounds):
        rate, accuracy = run_trainer(args.epochs, args.device, not args.no_amp)
        best["trainer"] = max(best["trainer"], rate)
        best["hand"] = max(best["hand"], run_hand_written(args.epochs, args.device))
        best["classic"] = max(best["classic"], run_classic(args.epochs, args.device))
    amp = "" if args.device == "cpu" else (" (no AMP)" if args.no_amp else " (AMP)")
    print(
        f"MNIST MLP on mnist_10k.npz, {args.epochs} epochs, batch {BATCH}, device {args.device}{amp}, fastest "
        f"epoch of {args.rounds} rounds, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"  TorchCanvas trainer      {best['trainer']:>10,.0f} samples/s  (test accuracy {accuracy:.4f})")
    print(f"  hand-written, in memory  {best['hand']:>10,.0f} samples/s")
    print(f"  classic DataLoader       {best['classic']:>10,.0f} samples/s")
    print(f"  trainer / hand-written   {best['trainer'] / best['hand']:.2f}x  (target >= 0.9x)")
    print(f"  trainer / classic        {best['trainer'] / best['classic']:.2f}x  (target >= 2x)")
    print(f"  hand-written / classic   {best['hand'] / best['classic']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
