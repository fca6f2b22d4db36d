"""A run in the window has the process's only OpenMP team, as ``torchcanvas train`` has (gui.training.cores).

Checked in a fresh interpreter, counting the OS threads in /proc: tests/gui/openmp_threads.py runs the script, gives it
``threads()`` and says why.
"""

from __future__ import annotations

import pytest

from tests.gui.openmp_threads import ROOT, counts_teams, run_child

SCRIPT = r"""
import json, sys, time
import torch
if sys.argv[2]:
    __import__(sys.argv[2])  # a library with its own OpenMP, loaded after torch: mapped below it
from PySide6.QtCore import QCoreApplication
from core.files.project import load
from gui.training.worker import TrainingRun
from core.training.events import TrainResult

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
@counts_teams
@pytest.mark.parametrize("first", ["", "sklearn.linear_model"])
def test_the_gui_thread_gives_its_openmp_team_back_when_a_run_starts_and_the_run_keeps_every_core(first):
    """Before, the GUI thread kept the team a dataset load or preview had made, so the run's OpenMP worker slept
    on a futex between ops instead of spinning (libgomp does so once its threads outnumber the cores): the MNIST
    MLP trained at 0.6x ``torchcanvas train`` on 2 cores. With scikit-learn loaded after torch, its own libgomp is
    the first one in /proc/self/maps: torch's must be told too."""
    if first:
        pytest.importorskip(first)
    found = run_child(SCRIPT, str(ROOT / "resources/examples/spirals.json"), first, timeout=120)
    if found["with_team"] == found["before"]:
        pytest.skip(f"torch made no OpenMP team here: {found}")
    assert found["after"] == found["before"], f"the GUI thread's OpenMP team is still there: {found}"
    assert found["gui"] == 1, found
    assert found["training_threads"] == found["default"], found
