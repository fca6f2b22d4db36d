"""Layer health's numbers on their way from the training thread to the window, as small copies.

``core.inspect.health.HealthWatcher`` calls back on the training thread with its own objects; ``HealthFeed`` (a
QObject of the GUI thread) copies each sample into a ``HealthPoint`` of plain floats there and sends the copies in
groups through a queued signal, at most every ``DELIVERY_S`` (as ``gui.training.worker`` groups batch events): the
GUI thread wakes a few times a second at most, never once per sample, and never touches the trainer's tensors.
A diagnosis goes out at once, with the samples held before it. ``watcher(project)`` gives the Watcher to hand the
Trainer; when the run ends (however it ends) what is still held is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

DELIVERY_S = 0.5
METRICS = ("grad_norm", "update_ratio", "dead", "saturated")


@dataclass(frozen=True)
class HealthPoint:
    """One sampled batch: for each metric, the layers that have it and their values (plain Python floats)."""

    step: int
    loss: float
    loss_mean: float
    names: tuple[str, ...]  # every layer of the sample, in the network's order
    node_ids: tuple[str | None, ...]
    values: dict[str, tuple[float | None, ...]]  # metric -> one value per name (None: does not apply)


def point_of(sample: Any) -> HealthPoint:
    """Copy a ``HealthSample`` into plain numbers (called on the training thread)."""
    layers = list(sample.layers)
    return HealthPoint(
        int(sample.step),
        float(sample.loss),
        float(sample.loss_mean),
        tuple(str(row.name) for row in layers),
        tuple(row.node_id for row in layers),
        {m: tuple(None if getattr(row, m) is None else float(getattr(row, m)) for row in layers) for m in METRICS},
    )


class _FeedWatcher:
    """The Watcher the trainer sees. It makes the health watcher in ``attach``, on the training thread (which has
    imported torch by then: pressing Train must not import it on the GUI thread), and sends what is still held
    when the run ends."""

    def __init__(self, feed: HealthFeed, project: Any, options: dict[str, Any]) -> None:
        self.feed, self.project, self.options = feed, project, options
        self.inner: Any = None

    def attach(self, model: Any, optimizer: Any) -> None:
        # deferred: core.inspect.health imports torch; the window paints and idles without it
        from core.inspect.health import HealthWatcher

        feed = self.feed
        self.inner = HealthWatcher.for_project(
            self.project, on_sample=feed.take_sample, on_diagnosis=feed.take_diagnosis, **self.options
        )
        self.inner.attach(model, optimizer)

    def after_batch(self, step: int, loss: float) -> None:
        self.inner.after_batch(step, loss)

    def after_epoch(self, epoch: int, metrics: Any) -> None:
        self.inner.after_epoch(epoch, metrics)  # the accuracy-at-chance diagnosis needs the epoch's figures

    def detach(self) -> None:
        try:
            if self.inner is not None:
                self.inner.detach()
        finally:
            self.feed.flush()
            self.inner = None  # the health watcher holds the model: the finished run must not keep it


class HealthFeed(QObject):
    """Lives in the GUI thread; ``arrived(points, diagnoses)`` is emitted there (queued from the training thread)."""

    arrived = Signal(object, object)  # list[HealthPoint], list[Diagnosis] (frozen dataclasses: safe to share)

    def __init__(self, parent: QObject | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.clock = clock
        self._lock = threading.Lock()
        self._points: list[HealthPoint] = []
        self._diagnoses: list[Any] = []
        self._next = 0.0
        self.groups = 0  # how many groups crossed (the tests count them)

    def watcher(self, project: Any, **options: Any) -> _FeedWatcher:
        """A health watcher for a run of ``project`` that reports here (``options`` go to ``HealthWatcher``)."""
        return _FeedWatcher(self, project, options)

    # -- training thread ----------------------------------------------------------------------------------
    def take_sample(self, sample: Any) -> None:
        point = point_of(sample)
        with self._lock:
            self._points.append(point)
            now = self.clock()
            if now < self._next:
                return
            self._next = now + DELIVERY_S
        self.flush()

    def take_diagnosis(self, diagnosis: Any) -> None:
        with self._lock:
            self._diagnoses.append(diagnosis)
        self.flush()

    def flush(self) -> None:
        with self._lock:
            points, self._points = self._points, []
            diagnoses, self._diagnoses = self._diagnoses, []
        if points or diagnoses:
            self.groups += 1
            self.arrived.emit(points, diagnoses)
