"""Memory across runs: does the window give back what a finished run used?

Trains the MNIST MLP example (resources/examples/mnist_mlp.json) ten times for one epoch from the real main
window (offscreen) with the training dashboard, as a user pressing Train again and again would. After each run
(and once the results views are drawn) it collects garbage and reads the process's resident memory. Prints the
RSS after each run, then ``rss_growth_mb=<after run 10 minus after run 1> live_trainers=<Trainer objects still
alive>``. Targets: growth under 50 MB, at most one live trainer (none, in fact: the window keeps a run's curves,
summary and folder, not its trainer).

Usage: ``python bench/run_memory.py [--runs 10] [--data npz:../shared/data/mnist/mnist_10k.npz]`` (a relative
``npz:`` path is read from the repository's folder).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = "npz:../shared/data/mnist/mnist_10k.npz"
PROJECT = ROOT / "resources/examples/mnist_mlp.json"


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def resolve(spec: str) -> str:
    """``npz:relative/path`` -> an absolute path from the repository's folder (what the README's examples use)."""
    kind, sep, path = spec.partition(":")
    if sep and kind == "npz" and not Path(path).is_absolute():
        return f"npz:{(ROOT / path).resolve()}"
    return spec


def live_trainers() -> int:
    from core.training import Trainer

    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Trainer))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data", default=DATA, help=f"dataset spec (default {DATA})")
    args = parser.parse_args()
    data = resolve(args.data)
    if data.startswith("npz:") and not Path(data[4:]).exists():
        print(f"missing {data[4:]}: the shared MNIST sample is needed (or pass --data)", file=sys.stderr)
        return 2

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.shell.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        window = MainWindow(settings=QSettings(str(workdir / "settings.ini"), QSettings.Format.IniFormat))
        dashboard = window.install_training()
        dashboard.runs_root = workdir / "runs"
        window.open_example(PROJECT)
        project = window.document.project
        project.training.dataset = data
        project.training.epochs = 1
        dashboard.panel.refresh()
        dashboard.refresh_dataset()
        window.resize(1600, 1000)
        window.show()
        for _ in range(10):
            app.processEvents()
        done: list = []
        dashboard.run_finished.connect(done.append)
        after: list[float] = []
        for number in range(1, args.runs + 1):
            done.clear()
            started = time.perf_counter()
            if dashboard.start_training() is None:
                print(f"cannot train: {dashboard.panel.reason.text()}", file=sys.stderr)
                return 1
            while not done:
                app.processEvents()
                time.sleep(0.005)
            for _ in range(20):  # deferred deletes and the last redraws
                app.processEvents()
            gc.collect()
            after.append(rss_mb())
            status = done[0].status
            print(f"run {number}: {status} in {time.perf_counter() - started:.1f} s, rss {after[-1]:,.0f} MB")
            if status != "finished":
                print(f"  {done[0].message}", file=sys.stderr)
                return 1
        trainers = live_trainers()
        window.document.undo_stack.setClean()
        window.close()
    growth = after[-1] - after[0]
    print(f"rss_growth_mb={growth:.1f} live_trainers={trainers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
