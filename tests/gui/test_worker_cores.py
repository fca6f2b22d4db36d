"""A run in the window has the process's only OpenMP team, as ``torchcanvas train`` has (gui.training.cores).

Checked in a fresh interpreter: OpenMP's teams belong to the threads that ran parallel ops, and the test process's
own main thread has run many. The OS threads are counted in /proc, so the check is Linux's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, os, sys, time
import torch
if sys.argv[2]:
    __import__(sys.argv[2])  # a library with its own OpenMP, loaded after torch: mapped below it
from PySide6.QtCore import QCoreApplication
from core.files.project import load
from gui.training.worker import TrainingRun
from core.training.events import TrainResult

def threads():
    return len(os.listdir("/proc/self/task"))

app = QCoreApplication([])
default = torch.get_num_threads()
before = threads()
torch.ones(2000, 2000).exp_()  # a parallel op on the GUI thread: OpenMP gives this thread a team
with_team = threads()
seen = {}

class Stub:  # records what the run's thread is given; trains nothing
    def run(self):
        seen["training_threads"] = torch.get_num_threads()
        return TrainResult("finished")
    def pause(self): pass
    def resume(self): pass
    def stop(self): pass

run = TrainingRun(load(sys.argv[1]), trainer_factory=lambda project, **_: Stub(), load_data=False)
run.finished.connect(lambda _: app.quit())
run.start()
app.exec()
run.wait()
deadline = time.monotonic() + 10
while threads() > before and time.monotonic() < deadline:  # the run's thread ends a moment after finished
    time.sleep(0.05)
print(json.dumps({"default": default, "before": before, "with_team": with_team, "after": threads(),
                  "gui": torch.get_num_threads(), **seen}))
"""


@pytest.mark.slow  # a fresh interpreter that imports torch: seconds
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenMP makes no team")
@pytest.mark.parametrize("first", ["", "sklearn.linear_model"])
def test_the_gui_thread_gives_its_openmp_team_back_when_a_run_starts_and_the_run_keeps_every_core(first):
    """Before, the GUI thread kept the team a dataset load or preview had made, so the run's OpenMP worker slept
    on a futex between ops instead of spinning (libgomp does so once its threads outnumber the cores): the MNIST
    MLP trained at 0.6x ``torchcanvas train`` on 2 cores. With scikit-learn loaded after torch, its own libgomp is
    the first one in /proc/self/maps: torch's must be told too."""
    if first:
        pytest.importorskip(first)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "resources/examples/spirals.json"), first],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["with_team"] == found["before"]:
        pytest.skip(f"torch made no OpenMP team here: {found}")
    assert found["after"] == found["before"], f"the GUI thread's OpenMP team is still there: {found}"
    assert found["gui"] == 1, found
    assert found["training_threads"] == found["default"], found
