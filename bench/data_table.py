"""A big table from the user: a generated CSV of 1,000,000 rows x 20 columns (about 100 MB, in a temporary folder:
16 number columns, one with missing cells, 3 category columns, and the label) is

1. surveyed (``core.datasets.survey.survey``: what the data wizard shows) -- target under 5 s;
2. loaded (``load_dataset``: one-hot, training medians, standardisation) -- timed, no target;
3. trained one epoch by the TorchCanvas trainer (an MLP 24 -> 64 -> 4, Adam, batch 256) and by a hand-written
   loop on the same tensors, ``--rounds`` times interleaved; the fastest epoch of each is compared -- target
   trainer >= 0.9x the hand-written loop.

Usage: ``python bench/data_table.py [--rows 1000000] [--rounds 2] [--batch 256]``. CPU only.
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
BATCH, LR, HIDDEN = 256, 1e-3, 64
CITIES = np.array(["paris", "lyon", "nice", "lille", "brest"])


def write_table(path: Path, rows: int) -> None:
    """The CSV, written by pandas (setup, not timed): the label depends on a few columns, so training learns."""
    import pandas as pd

    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(rows, 16)).round(3)
    frame = pd.DataFrame(numbers, columns=[f"x{i}" for i in range(16)])
    frame.loc[rng.random(rows) < 0.05, "x15"] = np.nan  # missing cells: training median + a flag column
    frame["city"] = CITIES[rng.integers(0, 5, rows)]
    frame["plan"] = np.array(["a", "b"])[rng.integers(0, 2, rows)]
    frame["size"] = np.array(["s", "m", "l"])[rng.integers(0, 3, rows)]
    score = numbers[:, 0] + numbers[:, 1] - numbers[:, 2] + (frame["plan"] == "a").to_numpy()
    frame["label"] = np.digitize(score, [-1.0, 0.5, 2.0])
    frame.to_csv(path, index=False)


def project(spec: str, features: int, classes: int, epochs: int) -> object:
    from core.files.project import Project
    from core.model.graph import Graph
    from core.settings import TrainingSettings

    graph = Graph()
    nodes = [graph.add("Input", "x", shape=[features]), graph.add("Linear", "fc1", out_features=HIDDEN)]
    nodes += [graph.add("ReLU", "relu"), graph.add("Linear", "fc2", out_features=classes), graph.add("Output", "out")]
    graph.chain(nodes)
    settings = TrainingSettings(dataset=spec, device="cpu", epochs=epochs, batch_size=BATCH, lr=LR, val_fraction=0.1)
    return Project(graph, "Big table", "", settings)


def run_trainer(spec: str, data: object, features: int, classes: int) -> float:
    """Samples per second of one training epoch (the trainer's own epoch timing: its steps, not validation)."""
    from core.training import Trainer

    with tempfile.TemporaryDirectory() as out:
        result = Trainer(project(spec, features, classes, 1), out_dir=out, data=data).run()
    if result.status != "finished":
        raise SystemExit(f"trainer failed: {result.message}")
    return float(result.summary["train_samples"]) / result.history[0]["seconds"]


def run_hand_written(
    x: torch.Tensor, y: torch.Tensor, features: int, classes: int, threads: int, steps: int = 0
) -> float:
    """What a PyTorch engineer writes for tensors in memory, on ``threads`` CPU threads (``steps``: only the first
    batches, for a slow setting)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _hand_written_epoch(x[: steps * BATCH] if steps else x, y, features, classes)
    finally:
        torch.set_num_threads(previous)


def _hand_written_epoch(x: torch.Tensor, y: torch.Tensor, features: int, classes: int) -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(features, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, classes))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    started = time.perf_counter()
    model.train()
    order = torch.randperm(len(x))
    for first in range(0, len(x), BATCH):
        batch = order[first : first + BATCH]
        loss = loss_fn(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return len(x) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    from core.datasets import load_dataset
    from core.datasets.survey import survey

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        started = time.perf_counter()
        write_table(path, args.rows)
        size = path.stat().st_size / 1e6
        print(
            f"table: {args.rows:,} rows x 20 columns, {size:.0f} MB (written in {time.perf_counter() - started:.1f} s)"
        )
        started = time.perf_counter()
        found = survey(f"table:{path}")
        seconds = time.perf_counter() - started
        print(
            f"survey: {seconds:.2f} s (target < 5 s: {'met' if seconds < 5 else 'NOT met'}); "
            f"{found.samples:,} samples, sample {list(found.sample_shape or ())}, {len(found.classes)} classes"
        )
        started = time.perf_counter()
        data = load_dataset(found.spec, val_fraction=0.1, test_fraction=0.1)
        print(f"load_dataset: {time.perf_counter() - started:.2f} s")
        features, classes = data.input_shape[0], data.num_classes
        from core.code.script_loop import single_thread

        # the trainer (and the exported script) train a model this small on one CPU thread; the hand-written loop
        # is timed on one thread (the same footing) and on torch's default threads
        threads = 1 if single_thread(features * HIDDEN + HIDDEN * classes, BATCH) else torch.get_num_threads()
        trainer, hand, default = [], [], []
        for _ in range(args.rounds):
            trainer.append(run_trainer(found.spec, data, features, classes))
            hand.append(run_hand_written(data.x_train, data.y_train, features, classes, threads))
            default.append(
                run_hand_written(data.x_train, data.y_train, features, classes, torch.get_num_threads(), 200)
            )
        best_trainer, best_hand = max(trainer), max(hand)
        print(f"trainer:      {best_trainer:,.0f} samples/s (fastest of {args.rounds} epochs, {threads} thread(s))")
        print(f"hand-written: {best_hand:,.0f} samples/s (fastest of {args.rounds} epochs, {threads} thread(s))")
        print(
            f"hand-written: {max(default):,.0f} samples/s on torch's default {torch.get_num_threads()} threads "
            "(200 batches)"
        )
        ratio = best_trainer / best_hand
        print(f"ratio: {ratio:.2f}x (target >= 0.9x: {'met' if ratio >= 0.9 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
