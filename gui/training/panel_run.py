"""A run as the training form shows it: the progress bar (steps done, epoch and batch, speed and ETA; no ETA
while paused) and the Keras-like log (the run's settings, one line per epoch, notices, the result)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QProgressBar

from core.settings import TrainingSettings
from gui.training.panel_form import KerasLog
from gui.training.panel_text import format_duration, keras_line, paused_line, result_line, short_spec


def fitting(bar: QProgressBar, parts: list[str]) -> str:
    """The progress parts that fit on one line inside ``bar`` (in a narrow bar the text was clipped at both
    ends): the speed goes first, then the batch; the epoch and the ETA stay. The tooltip has all of it."""
    metrics = QFontMetrics(bar.font())
    room = bar.contentsRect().width() - 12
    kept = list(parts)
    for unimportant in ("samples/", "batch"):
        if metrics.horizontalAdvance(" · ".join(kept)) <= room:
            break
        kept = [p for p in kept if unimportant not in p]
    return " · ".join(kept)


def speed_words(samples_per_s: float | None) -> str:
    """The run's speed in words that stay true for a slow run: below one sample a second it is said per minute
    (a big network on a CPU showed "0 samples/s" while it trained). '' when the trainer gave none."""
    if not samples_per_s or samples_per_s < 0:
        return ""
    if samples_per_s >= 10:
        return f"{samples_per_s:,.0f} samples/s"
    if samples_per_s >= 1:
        return f"{samples_per_s:.1f} samples/s"
    return f"{samples_per_s * 60:.2g} samples/min"


class RunReport:
    """Fed by the panel: ``begin``, then each ``TrainEvent`` through ``show``, then ``end``."""

    def __init__(self, progress: QProgressBar, log: KerasLog) -> None:
        self.progress, self.log = progress, log
        self.paused = False
        self.last_progress = ""  # the progress text before a pause, to show it again without its ETA
        self.epoch_started = 0.0

    def begin(self, settings: TrainingSettings) -> None:
        self.progress.setRange(0, 0)  # busy until the first event says how many steps there are
        self.progress.setFormat("Preparing data and model…")
        self.log.add(
            f"Training on {short_spec(settings.dataset)}: {settings.epochs} epochs, batch {settings.batch_size}, "
            f"{settings.optimizer} lr={settings.lr:g}, {settings.loss}"
        )
        self.epoch_started = time.monotonic()

    def pause(self) -> None:
        """No ETA while nothing moves."""
        self.paused = True
        self.last_progress = self.progress.format()
        self.progress.setFormat(paused_line(self.last_progress))

    def resume(self) -> None:
        self.paused = False
        self.progress.setFormat(fitting(self.progress, self.last_progress.split(" · ")))

    def show(self, event: Any) -> None:
        kind = event.kind
        if kind == "start":
            self.epoch_started = time.monotonic()
            if event.message:
                self.log.add(event.message)
        elif kind == "batch":
            self._show_batch(event)
        elif kind == "epoch":
            now = time.monotonic()
            self.log.add(keras_line(event, now - self.epoch_started))
            self.epoch_started = now
        elif kind == "notice" and event.message:
            self.log.add(event.message)

    def _show_batch(self, event: Any) -> None:
        total = max(1, (event.epochs or 1) * (event.batches or 1))
        if self.progress.maximum() != total:
            self.progress.setRange(0, total)
        self.progress.setValue(min(total, event.step or 0))
        speed = speed_words(event.samples_per_s)
        parts = [
            f"Epoch {event.epoch}/{event.epochs}",
            f"batch {event.batch}/{event.batches}",
            *([speed] if speed else []),
            f"ETA {format_duration(event.eta_s)}",
        ]
        text = " · ".join(parts)
        self.last_progress = text
        self.progress.setToolTip(text)
        self.progress.setFormat(paused_line(text) if self.paused else fitting(self.progress, parts))

    def end(self, result: Any) -> str:
        """Show how the run ended; returns why it failed ('' when it did not)."""
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if result.status == "finished":
            self.progress.setValue(self.progress.maximum())
            text = "Finished"
            if result.test_accuracy is not None:
                text += f" · test accuracy {100 * result.test_accuracy:.1f}%"
            self.progress.setFormat(text)
            self.log.add(result_line(result))
            return ""
        failed = result.status == "failed"
        self.progress.setFormat("Failed" if failed else "Stopped")
        message = result.message or ("The run failed without a message." if failed else "")
        self.log.add(("Failed: " if failed else "Stopped. ") + message)
        return message if failed else ""
