"""A learning-rate range test, as fastai's ``lr_find``: a short run with the rate rising exponentially each batch,
loss against rate, and a suggested rate.

It trains a fresh model (never the one the user trained), from the weights training starts from (random ones from
the project's seed, or an imported or pretrained network's own: ``core.inspect.start``), with the project's own
optimizer, loss and batches: ``RangeTest`` is a ``core.training.watch.Watcher`` on an ordinary ``Trainer`` run,
so the loop is the exported script's. The rate goes from ``start`` to ``end`` over ``steps`` batches and the run
stops early once the smoothed loss passes 4x its lowest (or turns NaN): past that point the curve says nothing.
The suggestion is the rate where the loss falls fastest (steepest descent, per decade of rate), the one fastai
marks; the rate of the lowest loss divided by 10 is given beside it, and used when the curve has no clear steepest
point. Both are read from the raw losses averaged over a centred window, not from the plotted moving average: over
~100 batches that average lags by dozens of points, and a regression's batch losses jump 2x at random, so the
plotted curve's steepest point was the noise of the first batches (3e-07 for a table that trains at 0.01). The
first tenth of the points is skipped (fastai skips 10 of 100), and only a fall below the start by a tenth of the
whole drop counts as a descent. Fewer than ``MIN_POINTS`` points suggest nothing, and neither does a curve whose
lowest loss is not ``NO_FALL`` below its start: then no rate helps, and the message says to look at the health
diagnoses instead.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.datasets import Dataset
from core.files.project import Project
from core.inspect.nodes import InspectError
from core.inspect.start import start_of
from core.settings import TrainingSettings
from core.training import Trainer
from core.training.watch import Watcher

SMOOTHING = 0.98  # fastai's: an exponential moving average of the loss, bias-corrected
DIVERGED = 4.0  # the smoothed loss this many times its lowest: stop
MIN_POINTS = 10  # fewer points than this: no suggestion to trust (and the fewest steps a test may have)
MAX_STEPS = 10_000
SKIP = 0.1  # the share of the first points left out of the suggestion: the loss there is one noisy batch or two
REAL_FALL = 0.1  # a descent must take the loss below its start by this share of the whole drop
# The lowest (centred) loss must be at least this share below the loss at the start, or no rate helps: a network
# that cannot learn (12 sigmoid layers: 2.31 to 2.37 from 1e-7 to 0.3) was sent to a rate read off the noise
# (0.0034, after which it trained at chance). Every learning curve measured falls by far more (the digits MLP:
# 2.32 to 1.7 smoothed; a regression table 16 to under 5), the flat one by 0.3 %.
NO_FALL = 0.05


@dataclass
class LrCurve:
    """The range test's result: one point per batch (``losses`` smoothed, ``raw`` as measured)."""

    rates: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    suggestion: float = math.nan
    method: str = ""  # "steepest descent", "minimum / 10", or "no fall" (no suggestion: no rate helps)
    fall: tuple[float, float] = (math.nan, math.nan)  # the loss at the start and at its lowest (averaged)
    steepest: float | None = None
    minimum_tenth: float = math.nan  # the rate at the lowest smoothed loss, divided by 10
    stopped: str = ""  # why the test ended, in words
    optimizer: str = ""
    current: float = math.nan  # the project's learning rate now
    start: str = ""  # the weights the test started from, training's: "imported weights (x.initial.pt)"

    def message(self) -> str:
        return self._verdict() + (f" The test started from {self.start}, as training does." if self.start else "")

    def _verdict(self) -> str:
        if self.method == "no fall":
            start, low = self.fall
            return (
                f"The loss did not fall at any rate from {self.rates[0]:.2g} to {self.rates[-1]:.2g} (it started at "
                f"{start:.4g}, its lowest was {low:.4g}): the learning rate is not what stops this network, so no rate "
                "is suggested. See the health diagnoses (train with Layer health on: vanishing gradients, dead or "
                f"saturated units). The project uses {self.current:g} now. {self.stopped}"
            )
        if not math.isfinite(self.suggestion):
            return (
                f"Too few points ({len(self.rates)}) to suggest a learning rate: the test needs {MIN_POINTS} at "
                f"least (more steps; if the loss blew up at once, a lower start rate). The project uses "
                f"{self.current:g} now. "
                f"{self.stopped}"
            )
        other = (
            f"the lowest loss's rate / 10 is {self.minimum_tenth:.2g}"
            if self.method == "steepest descent"
            else "the curve has no clear steepest descent"
        )
        return (
            f"Suggested learning rate: {self.suggestion:.2g} for {self.optimizer} ({self.method} of the loss; "
            f"{other}). The project uses {self.current:g} now. {self.stopped}"
        )


class RangeTest(Watcher):
    """The watcher: sets the rate before each batch, records the loss after it, asks the run to stop."""

    def __init__(
        self,
        start: float,
        end: float,
        steps: int,
        stop: Callable[[], None],
        on_point: Callable[[float, float], None] | None = None,
    ) -> None:
        if not 0 < start < end:
            raise InspectError(f"The range test needs 0 < start < end (got {start:g} and {end:g}).")
        if not MIN_POINTS <= steps <= MAX_STEPS:
            raise InspectError(
                f"The range test needs between {MIN_POINTS} and {MAX_STEPS:,} steps (got {steps}): with fewer points "
                "it cannot tell where the loss falls fastest. The default, 100, suits most projects."
            )
        self.start, self.end, self.steps, self.stop = start, end, steps, stop
        self.on_point = on_point
        self.curve = LrCurve()
        self._optimizer: torch.optim.Optimizer | None = None
        self._average = 0.0
        self._best = math.inf

    def rate(self, k: int) -> float:
        """The rate of batch k (from 0): exponential from start to end."""
        return self.start * (self.end / self.start) ** (k / (self.steps - 1))

    def _set(self, rate: float) -> None:
        assert self._optimizer is not None
        for group in self._optimizer.param_groups:
            group["lr"] = rate

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer
        self._set(self.rate(0))

    def after_batch(self, step: int, loss: float) -> None:
        curve = self.curve
        k = len(curve.rates)
        curve.rates.append(self.rate(k))
        curve.raw.append(loss)
        if not math.isfinite(loss):
            curve.stopped = f"The loss became {loss} at the rate {curve.rates[-1]:.2g}: the test stopped there."
            curve.rates.pop(), curve.raw.pop()
            self.stop()
            return
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        smoothed = self._average / (1 - SMOOTHING ** (k + 1))
        curve.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        if self.on_point is not None:
            self.on_point(curve.rates[-1], smoothed)
        if k > 0 and smoothed > DIVERGED * self._best:
            curve.stopped = (
                f"The loss passed {DIVERGED:g}x its lowest at the rate {curve.rates[-1]:.2g}: stopped there."
            )
            self.stop()
        elif k + 1 >= self.steps:
            curve.stopped = f"The test ran its {self.steps} batches up to the rate {curve.rates[-1]:.2g}."
            self.stop()
        else:
            self._set(self.rate(k + 1))

    def detach(self) -> None:
        pass


def suggest(curve: LrCurve) -> LrCurve:
    """Fill in the suggestion from the recorded points (fastai's steepest descent, or the minimum's rate / 10);
    none (NaN) from fewer than ``MIN_POINTS`` points."""
    if not curve.rates:
        raise InspectError("The range test recorded no batch: the dataset has no training samples.")
    curve.steepest = None
    n = len(curve.raw)
    if n < MIN_POINTS:
        curve.suggestion, curve.minimum_tenth, curve.method = math.nan, math.nan, ""
        return curve
    loss = _centred(curve.raw, max(5, n // 10) | 1)
    skip = max(1, int(n * SKIP))
    lowest = min(range(skip, n), key=loss.__getitem__)
    curve.minimum_tenth = curve.rates[lowest] / 10
    curve.fall = (loss[skip], loss[lowest])
    if loss[skip] - loss[lowest] < NO_FALL * abs(loss[skip]):  # flat (or only rising): its "steepest" is noise
        curve.suggestion, curve.method = math.nan, "no fall"
        return curve
    logs = [math.log10(r) for r in curve.rates]
    below = loss[skip] - REAL_FALL * (loss[skip] - loss[lowest])
    slopes = {
        i: (loss[i + 1] - loss[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(skip + 1, lowest) if loss[i] < below
    }
    best = min(slopes, key=slopes.__getitem__) if slopes else None
    if best is not None and slopes[best] < 0 and best >= 2 * skip:  # not in the first fifth: noise, not a fall
        curve.steepest = curve.rates[best]
    if curve.steepest is not None:
        curve.suggestion, curve.method = curve.steepest, "steepest descent"
    else:
        curve.suggestion, curve.method = curve.minimum_tenth, "minimum / 10"
    return curve


def _centred(values: list[float], window: int) -> list[float]:
    """The mean over a window centred on each point (narrower at the ends): smooth without the moving average's
    lag."""
    half = window // 2
    return [statistics.fmean(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


def lr_find(
    project: Project,
    *,
    data: Dataset | None = None,
    data_dir: str | Path | None = None,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    on_point: Callable[[float, float], None] | None = None,
    project_path: str | os.PathLike[str] | None = None,
) -> LrCurve:
    """Run the range test on a fresh model of ``project`` and return the curve with its suggestion. Blocks for
    ``steps`` batches at most: call it from a worker thread in the window. ``on_point(rate, smoothed loss)``
    is called after each batch (on that thread). The model starts from the weights training starts from
    (``core.inspect.start``: an imported network's own, beside ``project_path``, or pretrained ones), so a
    fine-tuning rate is found for a trained network, not a from-scratch one (trial 5 J11)."""
    values = project.training.to_dict()
    # the rate is the test's to set: no schedule, no early stop, and epochs enough for every step
    values.update(scheduler="none", early_stopping=0, epochs=100_000, freeze_epochs=0)
    settings = TrainingSettings.from_dict(values)
    trial = Project(project.graph, project.name, project.description, settings, extra=dict(project.extra))
    trainer: Trainer | None = None

    def stop() -> None:
        assert trainer is not None
        trainer.stop()

    test = RangeTest(start, end, steps, stop, on_point)
    weights = start_of(project, project_path)  # the trainer loads them itself, as a run does
    imported = Path(weights.file) if weights.kind == "imported" else None
    trainer = Trainer(trial, data=data, save=False, data_dir=data_dir, watchers=[test], initial_weights=imported)
    result = trainer.run()
    if result.status == "failed" and not test.curve.rates:
        raise InspectError(result.message)
    curve = suggest(test.curve)
    curve.optimizer, curve.current, curve.start = settings.optimizer, settings.lr, weights.words()
    if not curve.stopped:
        curve.stopped = f"The test ended after {len(curve.rates)} batches."
    return curve
