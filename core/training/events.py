"""What the trainer reports while it runs (events) and when it is done (the result)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the figures module imports torch; the editor imports these events without it
    from core.training.metrics import RegressionMetrics

EventKind = Literal["start", "batch", "epoch", "notice", "end"]


@dataclass(frozen=True)
class TrainEvent:
    """One report from the training thread; every number is a plain Python float or int."""

    kind: EventKind
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    step: int = 0
    loss: float | None = None
    accuracy: float | None = None
    lr: float | None = None
    samples_per_s: float | None = None
    eta_s: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    message: str = ""
    seconds: float | None = None  # epoch events: time spent in the epoch's training steps


@dataclass
class TrainResult:
    status: Literal["finished", "stopped", "failed"]
    message: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    test_loss: float | None = None
    test_accuracy: float | None = None
    confusion: list[list[int]] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    per_class_accuracy: list[float] = field(default_factory=list)
    misclassified: list[int] = field(default_factory=list)
    run_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    regression: RegressionMetrics | None = None  # MAE, RMSE, R², residuals: a regression's test figures


class Throttle:
    """Lets a batch event through at most every ``interval`` seconds, so reporting never slows a fast loop."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._last = -float("inf")

    def ready(self, force: bool = False) -> bool:
        now = time.perf_counter()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False
