"""Layer-health overhead benchmark: what the HealthWatcher (core.inspect.health) costs a training run.

Trains each project for a few epochs without and with the watcher, alternating, and reports for each round the
ratio (with / without) of the wall clock and of the process's CPU time (less disturbed by other processes on a
shared machine), and the watcher's own time as a share of the run (its after_batch calls and its hooks, timed
inside it: the steadiest of the three). Target: overhead < 5 % (the watcher
samples every N batches and doubles N while one sample costs more than 5 % of the batches between two).

Runs of a fraction of a second are all noise on a shared machine: keep each run a few seconds long (--epochs).
Each round runs the two in alternating order, so that neither always goes first.

Run: .venv/bin/python bench/inspect_overhead.py [--rounds 5] [--epochs 10] [--every 10] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.datasets import load_for_settings
from core.files.project import load
from core.inspect.health import HealthWatcher
from core.settings import TrainingSettings
from core.training import Trainer

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
PROJECTS = ("digits_mlp", "residual_cnn", "resnet_small")


def timed(project, data, watcher: HealthWatcher | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run."""
    started, cpu = time.perf_counter(), time.process_time()
    result = Trainer(project, data=data, save=False, watchers=[watcher] if watcher else []).run()
    if result.status != "finished":
        raise SystemExit(f"{project.name}: {result.message}")
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--every", type=int, default=10, help="the watcher's first N (it may raise it)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--projects", nargs="*", default=PROJECTS)
    args = parser.parse_args()
    for name in args.projects:
        project = load(EXAMPLES / f"{name}.json")
        values = {**project.training.to_dict(), "epochs": args.epochs, "device": args.device, "early_stopping": 0}
        if name == "resnet_small":
            values["dataset"] = "shapes:samples=1000"
        project.training = TrainingSettings.from_dict(values)
        from core.code.script import input_dtype_of, input_shape_of

        data = load_for_settings(project.training, input_shape_of(project), None, None, input_dtype_of(project))
        timed(project, data, None)  # warm-up: first-call costs belong to neither side
        ratios, cpu_ratios, shares, everies = [], [], [], []
        for k in range(args.rounds):
            watcher = HealthWatcher.for_project(project, every=args.every)
            if k % 2:
                watched, watched_cpu = timed(project, data, watcher)
                plain, plain_cpu = timed(project, data, None)
            else:
                plain, plain_cpu = timed(project, data, None)
                watched, watched_cpu = timed(project, data, watcher)
            ratios.append(watched / plain)
            cpu_ratios.append(watched_cpu / plain_cpu)
            shares.append(watcher.seconds / watched)
            everies.append(watcher.every)
        print(
            f"{name:13s} with/without: wall median {statistics.median(ratios):.3f} "
            f"(rounds {', '.join(f'{r:.3f}' for r in ratios)}), CPU median {statistics.median(cpu_ratios):.3f} "
            f"(rounds {', '.join(f'{r:.3f}' for r in cpu_ratios)}); watcher's own time: median "
            f"{statistics.median(shares):.2%} of the run; samples every {max(everies)} batches",
            flush=True,
        )


if __name__ == "__main__":
    main()
