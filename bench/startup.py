"""Start-up: how long ``torchcanvas --version``, ``--help`` and the editor's first paint take, and what an idle
window holds in memory.

Each figure is the median of ``--runs`` (5) fresh processes, cold and warm:
- cold: before each run the page cache is emptied of the files the start reads (the venv's site-packages, the
  standard library, this repository's code) with ``posix_fadvise(DONTNEED)``, which needs no root and touches
  nothing else. Pages another process has mapped at that moment (a test run importing torch beside this one)
  stay in memory, so on a busy machine cold is "as cold as this process can make it";
- warm: the same runs right after each other.
The window is started by ``bench/startup_window.py`` (``run_app``, offscreen, watched from outside the shipped
code): ``window_painted_s`` is from the process start to the end of the main window's first paint,
``window_painted_cpu_s`` the CPU seconds the process used until then (steadier than wall time when other work
shares the machine), ``torch_after_paint_s`` when torch was first imported (negative: before the paint; "never"
when the window does not need it), ``settled_s`` when the training dashboard had docked (and a warm-up import thread,
where a version has one, was done), ``rss_at_paint_mb`` and ``idle_rss_mb`` the resident memory at the paint and
``--idle`` seconds after settling: the data preview still loads in its thread after ``settled``, so give
``--idle`` time for it (5 s on a busy 2-core machine). ``version_cpu_s`` and ``help_cpu_s`` are CPU seconds too.

``--train`` adds, warm, the first Train of the idle window (one epoch of the example): ``first_batch_cold_s`` from
pressing Train to the run's first batch event with nothing done before, ``first_batch_hover_s`` the same after the
pointer entered the training form 4 s before the press (intent to train starts torch's import), and the longest
the window did not answer meanwhile (``longest_gap_*_s``, between two 10 ms timer ticks).
The load average (1 min) is printed at the start and the end: the machine may be shared.

Targets: --version and --help < 0.3 s; window painted < 1.5 s with torch imported after it; idle RSS < 400 MB.
Usage: ``python bench/startup.py [--runs 5] [--idle 2] [--warm-only] [--python-m] [--train]``; prints one line
per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW = ROOT / "bench" / "startup_window.py"


def command(module: bool = False) -> list[str]:
    """The installed ``torchcanvas`` script of this interpreter's environment, else (or with ``module``)
    ``python -m gui`` run from this checkout."""
    if module:
        return [sys.executable, "-m", "gui"]
    script = Path(sys.executable).parent / "torchcanvas"
    found = str(script) if script.exists() else shutil.which("torchcanvas")
    return [found] if found else [sys.executable, "-m", "gui"]


def files_read_at_start() -> Iterator[Path]:
    folders = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"]), ROOT / "core"}
    folders |= {ROOT / "gui", ROOT / "resources"}
    for folder in folders:
        for dirpath, _dirs, names in os.walk(folder):
            for name in names:
                yield Path(dirpath) / name


def evict_page_cache() -> None:
    """Drop the start-up files' clean pages from the page cache (this process's files only, no root needed)."""
    for path in files_read_at_start():
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``argv``."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def window_start(idle: float, train: str = "none") -> dict[str, float | None]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.time()
    argv = [sys.executable, str(WINDOW), str(idle), "--train", train]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the window did not start (exit {done.returncode}):\n{done.stderr[-2000:]}")
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    torch_at = seen["torch"]
    return {
        "painted": seen["painted"] - started,
        "painted_cpu": seen["painted_cpu"],
        "torch_after_paint": None if torch_at is None else torch_at - seen["painted"],
        "settled": seen["settled"] - started,
        "rss_at_paint_mb": seen["rss_at_paint_mb"],
        "rss_mb": seen["rss_mb"],
        "first_batch": seen.get("first_batch_s"),
        "longest_gap": seen.get("longest_gap_s"),
    }


def median_of(runs: int, cold: bool, measure: Callable[[], object]) -> list[object]:
    results = []
    for _ in range(runs):
        if cold:
            evict_page_cache()
        results.append(measure())
    return results


def report(name: str, values: list[float | None], unit: str) -> None:
    known = [v for v in values if v is not None]
    if not known:
        print(f"{name}=never ({len(values)} runs)")
        return
    spread = f"{min(known):.2f}-{max(known):.2f}" if unit == "s" else f"{min(known):.0f}-{max(known):.0f}"
    value = f"{statistics.median(known):.2f}" if unit == "s" else f"{statistics.median(known):.0f}"
    never = f", never in {len(values) - len(known)}" if len(known) < len(values) else ""
    print(f"{name}={value} {unit} (median of {len(values)}, {spread}{never})", flush=True)


FIGURES = [  # (key of window_start's answer, name printed, unit)
    ("painted", "window_painted", "s"),
    ("painted_cpu", "window_painted_cpu", "s"),
    ("torch_after_paint", "torch_after_paint", "s"),
    ("settled", "settled", "s"),
    ("rss_at_paint_mb", "rss_at_paint", "MB"),
    ("rss_mb", "idle_rss", "MB"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds of idle window before reading its RSS")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold runs")
    parser.add_argument("--python-m", action="store_true", help="time `python -m gui` of this checkout, not the script")
    parser.add_argument("--train", action="store_true", help="also time the first Train, cold and after a hover")
    args = parser.parse_args()
    print(f"load_average_start={os.getloadavg()[0]:.1f}", flush=True)
    tc = command(args.python_m)
    timed([*tc, "--version"])  # one untimed start: the warm runs start from a warm cache
    for temperature in ("warm",) if args.warm_only else ("cold", "warm"):
        cold = temperature == "cold"
        for flag in ("--version", "--help"):
            runs = median_of(args.runs, cold, lambda flag=flag: timed([*tc, flag]))
            report(f"{flag[2:]}_{temperature}_s", [wall for wall, _cpu in runs], "s")  # type: ignore[misc]
            report(f"{flag[2:]}_cpu_{temperature}_s", [cpu for _wall, cpu in runs], "s")  # type: ignore[misc]
        starts = median_of(args.runs, cold, lambda: window_start(args.idle))
        for key, label, unit in FIGURES:
            report(f"{label}_{temperature}_{unit.lower()}", [s[key] for s in starts], unit)  # type: ignore[index]
    for mode in ("cold", "hover") if args.train else ():
        trains = median_of(args.runs, False, lambda mode=mode: window_start(args.idle, mode))
        report(f"first_batch_{mode}_s", [t["first_batch"] for t in trains], "s")  # type: ignore[misc]
        report(f"longest_gap_{mode}_s", [t["longest_gap"] for t in trains], "s")  # type: ignore[misc]
    print(f"load_average_end={os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
