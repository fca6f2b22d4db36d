"""How a run in the window shares the CPU cores with the GUI thread, so that it trains as ``torchcanvas train`` does.

Torch runs an op on several cores through OpenMP, and OpenMP keeps one team of worker threads for each thread that
ran a parallel op. libgomp (torch's OpenMP on Linux) counts every team's threads, and once they outnumber the cores
its workers stop spin-waiting for the next op and sleep on a futex after about a thousand spins instead of
~300,000: each op of the run then waits for a worker to wake up. ``torchcanvas train`` has one team (its main
thread's); the window had two as soon as the GUI thread had run one parallel op (loading a dataset, a preview), so
the MNIST MLP trained at 0.6x the CLI on 2 cores, its OpenMP worker sleeping ~40 times per batch against none for
the CLI (bench/ui_latency.py; 1.1x once the team is given back). The GUI thread therefore runs its torch work on
one core and gives its team back before a run starts; the run's thread uses every core torch chose at start-up.
Like the CLI, the run then spin-waits: on a machine whose cores are busy with other programs both slow down alike.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path

from gui.widgets.thread_cores import default_threads, one_core_in_this_thread

log = logging.getLogger(__name__)

OMP_PAUSE_SOFT = 1  # omp_pause_resource_t: free the threads, keep what is cheap to keep
OPENMP_NAMES = ("libgomp", "libomp", "libiomp5")


def training_threads() -> int:
    """How many threads torch uses for one op in a run: what it chose for this machine at start-up (kept where the
    helper threads that go on one core read it first: ``gui.widgets.thread_cores``)."""
    return default_threads()


def use_all_cores() -> None:
    """In the worker thread: let torch ops use every core (a new thread starts with OpenMP's own default)."""
    import torch  # deferred for start-up, as above

    torch.set_num_threads(training_threads())


def openmp_runtimes() -> list[ctypes.CDLL]:
    """The OpenMP libraries loaded in this process: torch's (its own copy in torch/lib, or the system's), and any
    other a library brought (scikit-learn carries its own libgomp). On Linux they are found among the process's
    mapped files; elsewhere in torch/lib."""
    paths: list[str] = []
    if sys.platform.startswith("linux"):
        try:
            maps = Path("/proc/self/maps").read_text().splitlines()
        except OSError:
            maps = []
        paths = [parts[5] for parts in (line.split(None, 5) for line in maps) if len(parts) == 6]
    elif "torch" in sys.modules:
        paths = [str(p) for p in Path(sys.modules["torch"].__file__ or ".").parent.glob("lib/*omp*")]
    runtimes = []
    for path in dict.fromkeys(p for p in paths if Path(p).name.startswith(OPENMP_NAMES)):
        try:
            runtimes.append(ctypes.CDLL(path))  # already loaded: the same library, not a second copy
        except OSError:
            continue
    return runtimes


def give_back_openmp_team() -> bool:
    """Free the calling thread's OpenMP worker threads in every OpenMP library loaded (``omp_pause_resource_all``,
    OpenMP 5.0: only this thread's team goes, other threads' teams are untouched); True when one did it."""
    freed = False
    for runtime in openmp_runtimes():
        pause = getattr(runtime, "omp_pause_resource_all", None)
        if pause is not None:
            pause.argtypes = [ctypes.c_int]
            pause.restype = ctypes.c_int
            freed = pause(OMP_PAUSE_SOFT) == 0 or freed
    return freed


def torch_loaded() -> bool:
    """Whether torch is imported, all of it: while another thread (the warm-up) is importing it, ``import torch``
    here would wait for that thread, with the window frozen meanwhile."""
    torch = sys.modules.get("torch")
    return torch is not None and not getattr(getattr(torch, "__spec__", None), "_initializing", False)


_gui_one_core: list[bool] = []


def keep_gui_thread_on_one_core() -> None:
    """In the GUI thread: its own torch work (previews, predictions) runs on one core, and the OpenMP team it
    kept from earlier parallel ops is given back, so a run's team is the process's only one (see the module's
    docstring). Called when a run starts if torch is loaded then (``torch_loaded``), else when the run's first
    events arrive; never when the dashboard docks (an idle window imports no torch)."""
    one_core_in_this_thread()
    if not give_back_openmp_team():
        log.debug("no OpenMP runtime to give the GUI thread's team back to")
    if not _gui_one_core:
        _gui_one_core.append(True)


def gui_thread_on_one_core() -> bool:
    """Whether ``keep_gui_thread_on_one_core`` ran in this process."""
    return bool(_gui_one_core)
