"""OpenMP teams counted in a fresh interpreter (shared by test_worker_cores and test_thread_teams).

A team belongs to the threads that ran parallel ops, and the test process's own main thread has run many, so the
count is taken in a child. The OS threads are counted in /proc, so the checks are Linux's, and on one core OpenMP
makes no team at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

counts_teams = pytest.mark.skipif(
    not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
    reason="counts threads in /proc (Linux), and one core makes no OpenMP team",
)

# What every child script may call: the OS threads of the process now.
_THREADS = """
import os

def threads():
    return len(os.listdir("/proc/self/task"))
"""


def run_child(script: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run ``script`` (with ``threads()`` defined) in a fresh offscreen interpreter that imports from the
    repository; it prints its findings as JSON on its last line."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _THREADS + script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
