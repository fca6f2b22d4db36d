"""A helper thread's torch work makes no OpenMP team of its own (gui.widgets.thread_cores): the layer output view's
thread lives as long as the window, and before, its first output left the window training with two teams for good,
the run's OpenMP worker sleeping between ops instead of spinning (gui.training.cores says why). Try it and the why
view's thread (gui.widgets.background) does the same while jobs keep coming.

Checked in a fresh interpreter, counting the OS threads in /proc as test_worker_cores does: tests/gui/openmp_threads.py
runs the script and gives it ``threads()``.
"""

from __future__ import annotations

import pytest

from tests.gui.openmp_threads import counts_teams, run_child

SCRIPT = r"""
import json, sys, threading, time
import torch
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication
from core.datasets import load_dataset
from gui.training.cores import training_threads
from tests.core.train_fixtures import mlp_project

def wait(condition):
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    assert condition(), "no answer in 60 s"

app = QApplication([])
torch.ones(2000, 2000).exp_()  # the main thread's own team, made before the count
default = torch.get_num_threads()
found = {"default": default}
if sys.argv[1] == "layer":
    from gui.inspect.layer_output import LayerOutputDock

    class Document(QObject):  # what the dock reads of the window's document
        analyzed = Signal(object)
        path = None

        def __init__(self, project):
            super().__init__()
            self.project, self.graph = project, project.graph

        def snapshot(self):
            return self.project

    project = mlp_project([64], 65536, 10, dataset="digits")  # fc1's ReLU is a parallel op (65,536 values)
    data = load_dataset("digits")
    dock = LayerOutputDock(Document(project))
    dock.dataset_source = lambda: data
    dock.show()
    app.processEvents()
    found["before"] = threads()
    dock.show_node(next(n.id for n in project.graph.nodes if n.name == "relu"))
    wait(lambda: dock.output is not None)
    found["after"] = threads() - 1  # the view's own thread, alive for good
else:
    from gui.widgets.background import Background

    found["before"] = threads()
    answers = []
    worker = Background()
    worker.done.connect(lambda number, result: answers.append(result))
    worker.submit(1, lambda: (torch.ones(2000, 2000).exp_(), threads() - 1)[1])  # counted inside the job
    wait(lambda: bool(answers))
    found["after"] = answers[0]
found["new_thread"] = []
helper = threading.Thread(target=lambda: found["new_thread"].append(training_threads()))
helper.start()
helper.join()
print(json.dumps(found))
"""


@pytest.mark.slow
@counts_teams
@pytest.mark.parametrize("thread", ["layer", "background"])
def test_a_helper_thread_that_runs_torch_ops_makes_no_openmp_team_and_a_run_still_gets_every_core(thread):
    found = run_child(SCRIPT, thread, timeout=180)
    assert found["after"] == found["before"], f"the {thread} thread made an OpenMP team: {found}"
    # torch.set_num_threads(1) in the helper thread is also what every later thread starts with: the count a run
    # gets (training_threads) is still the one torch chose for the machine
    assert found["new_thread"] == [found["default"]], found
