"""What the Layer output dock shows, computed off the GUI thread: before and after a run in a thread of the dock
(``OutputComputer``: the newest request replaces a waiting one), while a run trains on the training thread between
two batches (``LiveOutputs``, a ``core.training.watch`` Watcher, at most every ``LIVE_S``). Both send a summary
without the full tensor through ``OutputFeed``; the dock (``gui.inspect.layer_output``) draws it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from gui.widgets.thread_cores import one_core_in_this_thread

LIVE_S = 1.0
BUDGET = 0.02  # the live view's share of a run's time at most


def light(output: Any) -> Any:
    """The summary without the whole output tensor (what crosses to the GUI thread)."""
    return dataclasses.replace(output, tensor=None)


def sample_for(data: Any, index: int, project: Any) -> Any:
    """Test sample ``index`` as the network takes it: the previewed dataset holds samples in their natural shape
    (the digits' 64 values), the Input may want them otherwise ([1, 8, 8]) with the same number of values."""
    # deferred: imports torch (as core.code.script and core.inspect.activations do); the window paints without it
    import torch

    from core.code.script import input_dtype_of, input_shape_of
    from core.inspect.activations import sample_of
    from core.inspect.nodes import InspectError

    sample = sample_of(data, index, "test")
    shape = input_shape_of(project)
    if tuple(sample.shape) != shape:
        if sample.numel() != torch.Size(shape).numel():
            raise InspectError(f"Sample {index} has shape {list(sample.shape)}, the Input takes {list(shape)}.")
        sample = sample.reshape(shape)
    return sample.long() if input_dtype_of(project) == "int64" else sample.float()


class OutputFeed(QObject):
    """What the dock asks (``request``: node id and sample, set on the GUI thread) and what comes back
    (``arrived(summary or None, words)``, queued from whichever thread computed it)."""

    arrived = Signal(object, str)
    running = Signal(bool)  # a run's watcher attached (True) or detached (False)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._request: tuple[str, Any] | None = None

    @property
    def request(self) -> tuple[str, Any] | None:
        with self._lock:
            return self._request

    @request.setter
    def request(self, value: tuple[str, Any] | None) -> None:
        with self._lock:
            self._request = value


class LiveOutputs:
    """The Watcher of a run: the asked node's output on the live model, between batches, every ``interval`` s, or
    less often when one forward pass of the sample costs more than ``BUDGET`` of the time between two (a big
    network on a CPU: the view must not slow the run)."""

    def __init__(self, project: Any, feed: OutputFeed, interval: float = LIVE_S, clock=time.monotonic) -> None:
        self.project, self.feed, self.interval, self.clock = project, feed, interval, clock
        self.spacing = interval  # seconds between two computations now
        self.outputs: Any = None  # the LayerOutputs of the live model while attached
        self._last = -float("inf")
        self.computed = 0

    def attach(self, model: Any, optimizer: Any) -> None:
        # deferred: core.inspect.activations imports torch; the window paints and idles without it
        from core.inspect.activations import LayerOutputs
        from core.inspect.nodes import InspectError

        try:
            self.outputs = LayerOutputs(self.project, model)
        except InspectError:
            self.outputs = None
        self.feed.running.emit(True)

    def after_batch(self, step: int, loss: float) -> None:
        now = self.clock()
        if self.outputs is not None and now - self._last >= self.spacing:
            self._compute(f"live, while training (batch {step})")
            self._last = self.clock()
            self.spacing = max(self.interval, (self._last - now) / BUDGET)

    def detach(self) -> None:
        if self.outputs is not None:
            self._compute("after the last batch of the run")
        self.outputs = None  # the model goes with the run
        self.feed.running.emit(False)

    def _compute(self, words: str) -> None:
        request = self.feed.request
        if request is None:
            return
        try:
            output = light(self.outputs.output(request[1], request[0]))
        except Exception as exc:  # a view must never stop the run: say it instead
            self.feed.arrived.emit(None, str(exc))
            return
        self.computed += 1
        self.feed.arrived.emit(output, words)


class OutputComputer:
    """One daemon thread that computes the newest request (``LayerOutputs`` kept while the network is the same)."""

    def __init__(self, feed: OutputFeed) -> None:
        self.feed = feed
        self._lock = threading.Condition()
        self._job: tuple | None = None
        self._cache: tuple[Any, Any] = (None, None)
        threading.Thread(target=self._loop, name="torchcanvas-layer-output", daemon=True).start()

    def ask(self, key: Any, project: Any, model: Any, node_id: str, sample: Any, words: str, path: Any = None) -> None:
        """``words`` "" for a model built here: it says which weights it starts from (``LayerOutputs.start``);
        ``path`` the project file its imported weights lie beside."""
        with self._lock:
            self._job = (key, project, model, node_id, sample, words, path)
            self._lock.notify()

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._job is None:
                    self._lock.wait()
                job, self._job = self._job, None
            key, project, model, node_id, sample, words, path = job
            try:
                # deferred: core.inspect.activations imports torch; the window paints and idles without it
                from core.inspect.activations import LayerOutputs

                one_core_in_this_thread()  # this thread lives on: an OpenMP team of its own would slow a run
                if self._cache[0] != key:
                    self._cache = (key, LayerOutputs(project, model, path))
                views = self._cache[1]
                output = light(views.output(sample, node_id))
                if not words and views.start is not None:
                    words = start_words(views.start)
            except Exception as exc:  # said in the dock, in words (an InspectError names the node)
                self.feed.arrived.emit(None, str(exc))
                continue
            self.feed.arrived.emit(output, words)


def start_words(start: Any) -> str:
    """'random weights (before training)', 'imported weights (x.initial.pt), before training: training starts
    from them' (``core.inspect.start.Start``)."""
    if start.kind == "random":
        return "random weights (before training)"
    return f"{start.words()}, before training: training starts from them"
