"""What a run does once an epoch's batches are done, in the order the exported script's ``main`` does it.

The epoch is validated with the script's own ``evaluate`` (``core.code.script_loop``), its row joins the history
and goes out as an ``epoch`` event, the watchers are told, then the script's ``end_of_epoch`` steps the per-epoch
schedule and says whether early stopping ends the run, and the run folder gets the row and the weights. The batches
themselves are the trainer's (``core.training.trainer``); a change to what an epoch leaves behind goes here.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Protocol

import torch

from core.code.script import eval_batch_size
from core.code.script_loop import STEPPED_IN_MAIN, classifies, end_of_epoch_parameters
from core.code.script_main import epochs_word
from core.settings import TrainingSettings
from core.training.loaders import evaluate_split
from core.training.run_record import EpochSums, Run
from core.training.watch import Watcher, optional_hook


class Emit(Protocol):
    """The trainer's way of sending an event: its kind and its fields (``TrainEvent``)."""

    def __call__(self, kind: str, **fields: Any) -> None: ...


def validate(run: Run, script: ModuleType, settings: TrainingSettings, device: torch.device) -> tuple[float, float]:
    """The validation loss and accuracy from the script's own ``evaluate``, as its ``main`` computes them;
    data read from disk sample by sample goes through the app's loader instead."""
    s = settings
    if not run.data.in_memory:
        loss, accuracy = evaluate_split(run.model, run.data, "val", run.tensors, run.loss_fn, s, device)
        return loss, accuracy
    x, y = run.tensors["x_val"], run.tensors["y_val"]
    if run.regression:  # numbers to predict: the script's evaluate gives the loss alone
        return script.evaluate(run.model, x, y, run.loss_fn, eval_batch_size(s)), math.nan
    loss_name = () if classifies(s) else (s.loss,)
    loss, accuracy = script.evaluate(run.model, x, y, run.loss_fn, *loss_name, eval_batch_size(s))[:2]
    return loss, accuracy


def record_epoch(
    run: Run,
    epoch: int,
    sums: EpochSums,
    script: ModuleType,
    settings: TrainingSettings,
    device: torch.device,
    emit: Emit,
) -> dict[str, Any]:
    """Validate, add the epoch's row to the history and report it (the run folder gets it in ``end_of_epoch``)."""
    s, n_train, classify = settings, run.data.count("train"), run.data.task == "classification"
    val_loss, val_accuracy = validate(run, script, settings, device)
    seconds = sums.seconds
    row = {
        "epoch": epoch,
        "loss": sums.loss / n_train,
        "accuracy": int(sums.hits) / n_train if classify else None,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy if classify else None,
        "lr": float(run.optimizer.param_groups[0]["lr"]),
        "seconds": seconds,
    }
    run.history.append(row)
    emit(
        "epoch",
        epoch=epoch,
        batch=run.steps_per_epoch,
        batches=run.steps_per_epoch,
        step=run.step,
        loss=row["loss"],
        accuracy=row["accuracy"],
        lr=row["lr"],
        samples_per_s=n_train / max(seconds, 1e-9),
        eta_s=(s.epochs - epoch) * seconds,
        val_loss=val_loss,
        val_accuracy=row["val_accuracy"],
        seconds=seconds,
    )
    return row


def tell_epoch(run: Run, epoch: int, row: dict[str, Any], watchers: Sequence[Watcher]) -> None:
    """The watchers' ``after_epoch``: the epoch's figures and the number of classes chance is measured by."""
    classes = run.data.num_classes if run.data.task == "classification" else None
    metrics = {**row, "classes": classes}
    for watcher in watchers:
        hook = optional_hook(watcher, "after_epoch")
        if hook is not None:
            hook(epoch, metrics)


def end_of_epoch(
    run: Run, epoch: int, row: dict[str, Any], script: ModuleType, settings: TrainingSettings, emit: Emit
) -> bool:
    """What the script's ``main`` does after validation: ``scheduler.step()`` for a plain per-epoch schedule,
    then its ``end_of_epoch`` (ReduceLROnPlateau's step, early stopping's epochs since the best) where it has one,
    keeping the best epoch's weights for early stopping (``run.best_weights``: the trainer tests them, as ``main``
    does); then the run folder's weights; True to stop training."""
    s = settings
    stop = False
    if s.scheduler in STEPPED_IN_MAIN:
        run.scheduler.step()
    names = end_of_epoch_parameters(s)
    if names:
        history = [{k: math.nan if v is None else v for k, v in r.items()} for r in run.history]
        given = {"history": history, "scheduler": run.scheduler}
        since_best = script.end_of_epoch(*(given[name] for name in names))
        if s.early_stopping:  # as main: a copy of the best epoch's weights, a stop after PATIENCE epochs without
            if since_best == 0:
                run.best_weights = copy.deepcopy(run.model.state_dict())
            stop = since_best >= s.early_stopping
    if run.folder is not None:
        run.folder.log_epoch(row)
        run.folder.save_weights("last.pt", run.model)
        if improved(run, row):  # with early stopping these are best_weights, which the run tests, as main does
            run.folder.save_weights("best.pt", run.model)
    if stop:
        waited = f"{s.early_stopping} {epochs_word(s.early_stopping)}"
        run.message = f"Early stopping: no better {run.monitor} for {waited}."
        emit("notice", epoch=epoch, message=run.message)
    return stop


def improved(run: Run, row: dict[str, Any]) -> bool:
    """Whether this epoch's monitored score is the best so far (for best.pt)."""
    score = row[run.monitor]
    if score is None or math.isnan(score):
        return run.best is None
    better = run.best is None or (score > run.best if run.monitor.endswith("accuracy") else score < run.best)
    if better:
        run.best = score
    return better
