"""What each look-inside view costs a training run: one line per example and view.

The views that watch a run (``core.training.watch`` watchers) are each trained for a few epochs without and with
the view, alternating, and reported as the ratio (with / without) of the wall clock and of the process's CPU time
(less disturbed by other processes on a shared machine), and the view's own time as a share of the run (the
steadiest of the three):

- ``health``: the Layer health tab's ``HealthWatcher`` (its after_batch calls and its hooks, timed inside it);
  target < 5 % (it samples every N batches and raises N while one sample costs more than 2 % of the batches
  between two);
- ``outputs``: the Layer output dock's live refresh, ``LivePreview`` of every node for one test sample about once
  a second (one forward pass of one sample; its calls timed from outside);
- ``tensorboard``: the TensorBoard histograms of every weight and gradient every 100 batches and at each epoch's
  end (``TensorBoardWatcher``; skipped when tensorboard is not installed).

The Summary dock watches no run: it is computed when the network changes or the dock is shown, so its line gives
the milliseconds of one refresh (analysis and table rows, median of 20) and no share of the run.

Runs of a fraction of a second are all noise on a shared machine: keep each run a few seconds long (--epochs).

Run: .venv/bin/python bench/inspect_overhead.py [--rounds 5] [--epochs 10] [--every 10] [--device cpu]
[--projects digits_mlp ...] [--views health outputs tensorboard summary]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.datasets import load_for_settings
from core.files.project import load
from core.inspect import tensorboard
from core.inspect.activations import LivePreview, sample_of
from core.inspect.health import HealthWatcher
from core.settings import TrainingSettings
from core.training import Trainer

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
PROJECTS = ("digits_mlp", "residual_cnn", "resnet_small")
VIEWS = ("health", "outputs", "tensorboard", "summary")


class Timed:
    """A watcher around another that times its calls (for views that do not time themselves) and gives a
    TensorBoard view a folder of its own in a run that saves nothing."""

    def __init__(self, inner: Any, folder: Path | None = None) -> None:
        self.inner, self.folder, self.seconds = inner, folder, 0.0

    def _call(self, name: str, *args: Any) -> None:
        method = getattr(self.inner, name, None)
        if method is not None:
            started = time.perf_counter()
            method(*args)
            self.seconds += time.perf_counter() - started

    def attach_folder(self, folder: Path | None) -> None:
        self._call("attach_folder", self.folder if self.folder is not None else folder)

    def attach(self, model: Any, optimizer: Any) -> None:
        self._call("attach", model, optimizer)

    def after_batch(self, step: int, loss: float) -> None:
        self._call("after_batch", step, loss)

    def after_epoch(self, epoch: int, metrics: Any) -> None:
        self._call("after_epoch", epoch, metrics)

    def detach(self) -> None:
        self._call("detach")


def make_view(view: str, project: Any, data: Any, every: int, folder: Path) -> tuple[Any, Callable[[], str]]:
    """The watcher for one view, and what to say about it after the run (how often it worked)."""
    if view == "health":
        watcher = HealthWatcher.for_project(project, every=every)
        return watcher, lambda: f"samples every {watcher.every} batches"
    if view == "outputs":
        refreshed = [0]
        nodes = [n.id for n in project.graph.nodes if n.type not in ("Input", "Output")]
        preview = LivePreview(project, sample_of(data, 0), nodes, lambda *_: refreshed.__setitem__(0, refreshed[0] + 1))
        return Timed(preview), lambda: f"{len(nodes)} nodes refreshed {refreshed[0]} times"
    writer = tensorboard.TensorBoardWatcher()
    return Timed(writer, folder), lambda: f"histograms at {writer.histograms} steps"


def timed(project: Any, data: Any, watcher: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run."""
    started, cpu = time.perf_counter(), time.process_time()
    result = Trainer(project, data=data, save=False, watchers=[watcher] if watcher else []).run()
    if result.status != "finished":
        raise SystemExit(f"{project.name}: {result.message}")
    return time.perf_counter() - started, time.process_time() - cpu


def summary_ms(project: Any) -> float:
    """One refresh of the Summary dock's table: the analysis and its rows (median of 20)."""
    from core.model.analysis import analyze
    from gui.inspect.summary_dock import summary_rows

    times = []
    for _ in range(20):
        started = time.perf_counter()
        summary_rows(project.graph, analyze(project.graph, project.training), project.training.batch_size)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--every", type=int, default=10, help="the health watcher's first N (it may raise it)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--projects", nargs="*", default=PROJECTS)
    parser.add_argument("--views", nargs="*", default=VIEWS, choices=VIEWS)
    args = parser.parse_args()
    views = [v for v in args.views if v != "tensorboard" or tensorboard.available()]
    if len(views) < len(args.views):
        print(f"tensorboard: skipped ({tensorboard.INSTALL})")
    for name in args.projects:
        project = load(EXAMPLES / f"{name}.json")
        values = {**project.training.to_dict(), "epochs": args.epochs, "device": args.device, "early_stopping": 0}
        if name == "resnet_small":
            values["dataset"] = "shapes:samples=1000"
        project.training = TrainingSettings.from_dict(values)
        if "summary" in views:
            print(f"{name:13s} {'summary':11s} {summary_ms(project):.1f} ms per refresh (not while training)")
        watched_views = [v for v in views if v != "summary"]
        if not watched_views:
            continue
        from core.code.script import input_dtype_of, input_shape_of

        data = load_for_settings(project.training, input_shape_of(project), None, None, input_dtype_of(project))
        timed(project, data, None)  # warm-up: first-call costs belong to neither side
        if "tensorboard" in watched_views:
            import torch.utils.tensorboard  # noqa: F401  (its first import, a quarter of a second, is one-off)
        for view in watched_views:
            ratios, cpu_ratios, shares, notes = [], [], [], []
            for k in range(args.rounds):
                with tempfile.TemporaryDirectory() as folder:
                    watcher, note = make_view(view, project, data, args.every, Path(folder))
                    if k % 2:
                        watched, watched_cpu = timed(project, data, watcher)
                        plain, plain_cpu = timed(project, data, None)
                    else:
                        plain, plain_cpu = timed(project, data, None)
                        watched, watched_cpu = timed(project, data, watcher)
                ratios.append(watched / plain)
                cpu_ratios.append(watched_cpu / plain_cpu)
                shares.append(watcher.seconds / watched)
                notes.append(note())
            print(
                f"{name:13s} {view:11s} with/without: wall median {statistics.median(ratios):.3f} "
                f"(rounds {', '.join(f'{r:.3f}' for r in ratios)}), CPU median {statistics.median(cpu_ratios):.3f}; "
                f"the view's own time: median {statistics.median(shares):.2%} of the run; {notes[-1]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
