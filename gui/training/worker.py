"""Run the core trainer in a QThread and turn its callbacks into Qt signals for the GUI thread.

The training loop lives in ``core.training.Trainer``; nothing here trains. The trainer calls ``on_event`` from
its own thread; we re-emit each event as a signal of a QObject that lives in the GUI thread, so Qt queues it and
the slots run on the GUI thread. Pause, resume and stop go straight to the trainer's thread-safe methods (a busy
worker thread never runs queued slots), and a thread is never terminated: stop asks the loop to end and waits.

Whatever goes wrong inside a run (a non-finite loss, running out of memory, a missing CUDA device, a bad data
file, a bug) arrives as a finished run with ``status == "failed"`` and a plain-language ``message``; the
traceback goes to a log file, never to the user.
"""

from __future__ import annotations

import atexit
import linecache
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from core.datasets import load_for_settings
from core.errors import TorchCanvasError, plain_message
from core.logs import append_traceback
from core.training.events import TrainEvent, TrainResult
from gui.training.cores import gui_thread_on_one_core, keep_gui_thread_on_one_core, torch_loaded, use_all_cores

if TYPE_CHECKING:
    from core.datasets import Dataset
    from core.files.project import Project
    from core.training.watch import Watcher

log = logging.getLogger(__name__)


class RunsTraining(Protocol):
    """What a run asks of its trainer: ``core.training.Trainer``, or the stand-in a test's factory makes."""

    def run(self) -> TrainResult: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...


TrainerFactory = Callable[..., RunsTraining]  # (project, *, out_dir, on_event, data, ...) -> the trainer


def failure_message(exc: BaseException) -> str:
    """The run's failure as the user reads it; a bug's traceback goes to ``training-errors.log`` first."""
    log = None if isinstance(exc, TorchCanvasError) else append_traceback(exc, "training-errors.log")
    return plain_message(exc, log, training=True)


_LIVE: set[TrainingRun] = set()  # runs whose thread has not ended: kept alive, stopped when the app quits


DELIVERY_S = 0.25  # batch and epoch events reach the GUI thread in groups, at most this far apart
GROUPED = ("batch", "epoch")
SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005
_switch_interval: list[float] = []


def _track(run: TrainingRun, thread: QThread) -> None:
    """Keep the run alive while its thread runs. Meanwhile the interpreter hands the GIL between threads more
    often: the GUI thread then waits at most ~1 ms, not 5, each time it needs the GIL back from the training
    loop, which keeps redraws and input quick (the loop's own speed is unaffected within measurement)."""
    if not _LIVE:
        _switch_interval.append(sys.getswitchinterval())
        sys.setswitchinterval(min(SWITCH_INTERVAL, _switch_interval[-1]))
    _LIVE.add(run)
    ref = weakref.ref(run)  # the connection lives as long as the thread object: it must not keep the run alive

    def ended() -> None:
        _LIVE.discard(ref())  # type: ignore[arg-type]
        if not _LIVE and _switch_interval:
            sys.setswitchinterval(_switch_interval.pop())

    thread.finished.connect(ended)


def stop_all(timeout: float = 5.0) -> bool:
    """Stop every run still going (the application is quitting); True when no thread is left."""
    return all([run.stop(timeout) for run in list(_LIVE)])


_warm: list[threading.Thread] = []
STARTING_TORCH = "Starting PyTorch (first run only)…"


def torch_ready() -> bool:
    """Whether torch and the first run's one-time imports are loaded (a run then starts at once)."""
    return "torch._dynamo" in sys.modules and not (_warm and _warm[0].is_alive())


def warm_up() -> threading.Thread:
    """Import what the first training run would otherwise import mid-run (torch, the trainer, and torch._dynamo,
    which building an optimizer pulls in: seconds of imports that starve the GUI thread of the GIL), in the
    background, once: when the user shows intent to train (``TrainingDashboard.prepare_to_train``), never idle."""
    if not _warm:

        def imports() -> None:
            try:
                # Deferred on purpose: this thread exists to import these ahead of the first run.
                import torch._dynamo  # noqa: F401

                # the trainer's data and model modules, too
                import core.datasets.base
                import core.training.trainer  # noqa: F401
            except Exception:  # only a head start; the run imports it itself if this fails
                log.debug("warm-up import failed", exc_info=True)

        thread = threading.Thread(target=imports, name="torchcanvas-warm-up")
        thread.start()
        _warm.append(thread)
    return _warm[0]


def _default_factory() -> TrainerFactory:
    from core.training import Trainer  # deferred for start-up: the trainer imports torch

    return Trainer


GENERATED_PREFIX = "<torchcanvas-"  # core.training.setup.exec_source registers each run's script as <torchcanvas-…>


def _script_name(trainer: RunsTraining | None) -> str | None:
    code = getattr(trainer, "_code", None)
    return code[0] if isinstance(code, tuple) and code and code[0] else None


def forget_generated_sources(keep: str | None = None) -> int:
    """Remove the generated scripts of earlier runs from ``linecache`` (each run registers its own for readable
    tracebacks, and nothing else ever removes them); ``keep`` names the newest. Returns how many went."""
    stale = [name for name in list(linecache.cache) if name.startswith(GENERATED_PREFIX) and name != keep]
    for name in stale:
        linecache.cache.pop(name, None)
    return len(stale)


def return_free_memory() -> None:
    """Give memory that Python and torch have freed back to the system (glibc keeps it in per-thread arenas
    otherwise: each run's worker thread left ~20-60 MB of free but resident pages behind, so the window grew by
    ~180 MB over ten runs although nothing of the old runs was alive). A no-op where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl or an unusual libc: the memory is still free, only not returned
        pass


class _TrainThread(QThread):
    """Builds the trainer and runs its blocking loop; every outcome ends in one ``done`` emission."""

    def __init__(self, run: TrainingRun) -> None:
        super().__init__()
        self._run: TrainingRun | None = run

    def run(self) -> None:  # executes in the worker thread
        run = self._run
        if run is None:  # run() ran before: the run was released
            return
        result: TrainResult
        try:
            if "torch" not in sys.modules:  # the first run of the session imports it here, not on the GUI thread
                run._notice(STARTING_TORCH)
            use_all_cores()
            trainer = run._make_trainer()
            result = trainer.run() if trainer is not None else TrainResult("stopped", "Stopped before it began.")
        except BaseException as exc:  # everything becomes a message; the traceback goes to a file
            result = TrainResult("failed", failure_message(exc))
        trainer = None  # this frame must not keep the model alive once the run is released
        self._run = None  # the run holds this thread; no reference back, so both can be freed
        run._result = result
        run._deliver_held()  # a run that ended without an "end" event (it raised) still shows its last batches
        run.finished.emit(result)  # queued to the GUI thread


class TrainingRun(QObject):
    """One training run in the background. Signals arrive on the GUI thread.

    ``training_event(TrainEvent)`` for every start/batch/epoch/notice/end event, then exactly one ``finished(result)``
    with a TrainResult (status "failed" and a plain message when the trainer raised).
    """

    training_event = Signal(object)  # not "event": that name would shadow QObject.event(), through which Qt
    # delivers every QEvent (deleteLater included), and the wrapper of a deleted run would then never be freed
    finished = Signal(object)
    events_arrived = Signal(object)  # a group of events from the training thread, one queued call (see _deliver);
    # views listen to training_event, and the tests count these groups

    def __init__(
        self,
        project: Project,
        *,
        out_dir: Path | None = None,
        data: Dataset | None = None,
        trainer_factory: TrainerFactory | None = None,
        load_data: bool = True,
        parent: QObject | None = None,
        initial_weights: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        watchers: tuple[Watcher, ...] | list[Watcher] = (),
    ) -> None:
        super().__init__(parent)
        self.watchers = list(watchers)  # looking inside the run (core.training.watch): layer health
        self.project = project
        self.initial_weights = initial_weights  # an imported project's weights: fine-tuning starts from them
        self.out_dir = out_dir
        self.data = data
        self._factory = trainer_factory
        self._load = load_data
        self._lock = threading.Lock()
        self._trainer: RunsTraining | None = None
        self._stop_requested = False
        self._paused = False
        self._result: TrainResult | None = None
        self._thread: _TrainThread | None = None
        self._held: list[TrainEvent] = []  # events waiting for the next delivery (training thread only)
        self.events_arrived.connect(self._unpack)  # queued: this object lives in the GUI thread
        self.clock = clock  # spaces the groups; a test passes its own so they do not depend on the machine's speed
        self._next_delivery = 0.0

    # -- called from the worker thread -------------------------------------------------------------
    def _load_data(self) -> Dataset:
        """The dataset shaped for the network, loaded here so the results views can reuse it afterwards."""
        from core.code.script import input_dtype_of, input_shape_of  # deferred for start-up: it imports torch

        def progress(message: str, fraction: float | None) -> None:
            self._notice(message if fraction is None else f"{message} {fraction:.0%}")

        shape, dtype = input_shape_of(self.project), input_dtype_of(self.project)
        return load_for_settings(self.project.training, shape, None, progress, input_dtype=dtype)

    def _notice(self, text: str) -> None:
        self.training_event.emit(TrainEvent("notice", epochs=self.project.training.epochs, message=text))

    def _make_trainer(self) -> RunsTraining | None:
        factory = self._factory or _default_factory()
        if self.data is None and self._load:
            self.data = self._load_data()
        with self._lock:
            if self._stop_requested:
                return None
        start: dict[str, Any] = {} if self.initial_weights is None else {"initial_weights": self.initial_weights}
        if self.watchers:
            start["watchers"] = self.watchers
        trainer = factory(self.project, out_dir=self.out_dir, on_event=self._deliver, data=self.data, **start)
        with self._lock:
            self._trainer = trainer
            if self._stop_requested:
                trainer.stop()
                return None
            if self._paused:
                trainer.pause()
        return trainer

    def _deliver(self, event: TrainEvent) -> None:
        """Pass the trainer's events on in groups: batch and epoch events wait until DELIVERY_S has passed since
        the last group, any other event (start, notice, end) goes out at once with those before it. Each group
        is one queued call, so the GUI thread wakes a few times a second, not at every event: each wake-up takes
        the GIL from the training loop, and on 2 cores ten epoch events a second cost the run a few percent."""
        self._held.append(event)
        if getattr(event, "kind", None) in GROUPED:
            now = self.clock()
            if now < self._next_delivery:
                return
            self._next_delivery = now + DELIVERY_S
        self._deliver_held()

    def _deliver_held(self) -> None:
        held, self._held = self._held, []
        if held:
            self.events_arrived.emit(held)

    def _unpack(self, events: list[TrainEvent]) -> None:
        """On the GUI thread: one ``training_event`` per event of a group, in order."""
        if not gui_thread_on_one_core() and torch_loaded():  # the run imported torch before its first group
            keep_gui_thread_on_one_core()
        for event in events:
            self.training_event.emit(event)

    # -- GUI thread API ----------------------------------------------------------------------------
    @property
    def trainer(self) -> RunsTraining | None:
        return self._trainer

    @property
    def result(self) -> TrainResult | None:
        return self._result

    def release(self) -> None:
        """Drop what only the finished run needed (trainer, model, optimizer, dataset tensors, its generated
        script in ``linecache`` but the newest one): the window keeps a run's curves and summary, not these.
        Call it on the GUI thread once the run's results have been taken."""
        with self._lock:
            trainer, self._trainer = self._trainer, None
        self.data = None
        self._factory = None
        forget_generated_sources(keep=_script_name(trainer))
        del trainer
        return_free_memory()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def is_paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a TrainingRun can be started once")
        if torch_loaded():  # the GUI thread may have run torch ops on every core: see gui.training.cores
            keep_gui_thread_on_one_core()
        thread = self._thread = _TrainThread(self)
        thread.setObjectName("torchcanvas-training")
        _track(self, thread)
        app = QCoreApplication.instance()
        if app is not None and not getattr(app, "_torchcanvas_stops_runs", False):
            app._torchcanvas_stops_runs = True  # type: ignore[attr-defined]
            app.aboutToQuit.connect(stop_all)
            atexit.register(stop_all)  # also when Python exits without the event loop (scripts, tests)
        thread.start()

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the loop to end and wait for the thread; True when no thread is left running."""
        with self._lock:
            self._stop_requested = True
            trainer = self._trainer
            self._paused = False
        if trainer is not None:
            trainer.stop()
            trainer.resume()  # a paused loop must wake up to see the stop
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is None:
            return True
        if timeout is None:
            return self._thread.wait()
        return self._thread.wait(max(0, int(timeout * 1000)))
