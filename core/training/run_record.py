"""What one training run holds while it trains and what it leaves behind.

``Run`` is the state the epochs share (the script's objects, the progress so far); ``open_run_folder`` writes the
code, project and settings before the first batch, and ``finish_run`` tests the model and writes the summary, so a
run folder always says what ran, even when it failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.code.codegen import generate_model
from core.code.script import eval_batch_size
from core.datasets import Dataset
from core.files.project import Project, dumps
from core.settings import TrainingSettings
from core.training.events import Throttle, TrainResult
from core.training.loaders import Batches, evaluate_split, report
from core.training.metrics import PREDICTIONS_FILE, predict_values, regression_metrics
from core.training.run_folder import RunFolder, default_runs_dir


@dataclass
class EpochSums:
    """What one epoch's batches add up to."""

    hits: torch.Tensor  # correct predictions, counted on the device
    loss: float = 0.0
    seen: int = 0
    seconds: float = 0.0


@dataclass
class Run:
    """What the epochs of one run share: the script's objects and the progress so far."""

    data: Dataset
    model: torch.nn.Module
    loss_fn: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    train_one_epoch: Callable[..., Any]  # the script's own, driven with on_batch
    epoch_args: dict[str, Any]
    batches: Batches
    tensors: dict[str, torch.Tensor]
    folder: RunFolder | None
    steps_per_epoch: int
    throttle: Throttle
    monitor: str
    history: list[dict[str, Any]] = field(default_factory=list)
    status: str = "finished"
    message: str = ""
    step: int = 0
    train_seconds: float = 0.0
    best: float | None = None
    waited: int = 0
    best_weights: dict[str, Any] | None = None  # early stopping's best epoch, tested at the end as main does
    regression: bool = False  # the script was written for numbers to predict (decided with it, once a run)


def open_run_folder(
    out_dir: Path | None,
    project: Project,
    settings: TrainingSettings,
    device: torch.device,
    script: str,
    data: Dataset,
    imported: Path | None = None,
) -> RunFolder:
    """A new run folder with the model, the script that runs (and the imported weights it starts from), the
    project and the settings."""
    folder = RunFolder(out_dir or default_runs_dir(), project.name)
    folder.write_text("model.py", generate_model(project.graph, title=project.name).source)
    folder.write_text("train.py", script)
    if imported is not None:
        folder.carry_start_weights(imported)
    folder.write_text("project.json", dumps(project))
    hparams = settings.to_dict()
    hparams.update(device=str(device), dataset_name=data.name, input_shape=list(data.input_shape))
    folder.write_json("hparams.json", hparams)
    for name, text in data.extra.get("run_files", {}).items():  # what only the source knows (text: vocab.json)
        folder.write_text(name, text)
    return folder


def finish_run(run: Run, settings: TrainingSettings, device: torch.device) -> TrainResult:
    """Test the model, write the summary and say how the run ended."""
    data, model, folder, history = run.data, run.model, run.folder, run.history
    status, message = run.status, run.message
    result = TrainResult(status, message, history, class_names=list(data.class_names), device=str(device))  # type: ignore[arg-type]
    if status != "failed" and data.count("test"):
        result.test_loss, result.test_accuracy, predictions, labels = evaluate_split(
            model, data, "test", run.tensors, run.loss_fn, settings, device, keep=True
        )
        if data.task == "classification":
            report(result, predictions, labels, data.num_classes)
        else:  # accuracy means nothing for numeric targets: MAE, RMSE and R² on the raw outputs instead
            result.test_accuracy = None
            size = eval_batch_size(settings)
            predicted, true = predict_values(model, data, "test", run.tensors, size, device)
            result.regression = regression_metrics(predicted, true)
    result.summary = _summary(run, result, device)
    if result.regression is not None:
        result.summary.update(result.regression.summary())
    if folder is not None:
        if status == "failed":
            folder.save_weights("last.pt", model)  # the last good weights
        result.run_dir = folder.path
        result.summary["run_dir"] = str(folder.path)
        if result.regression is not None:
            rows = data.extra.get("test_rows")  # where each test sample is in the user's file (a callable)
            folder.write_text(PREDICTIONS_FILE, result.regression.csv_text(rows() if rows else None))
        folder.write_json("summary.json", result.summary)
    return result


def _summary(run: Run, result: TrainResult, device: torch.device) -> dict[str, Any]:
    """The run in one flat record (summary.json): how it ended, how fast it trained and its last metrics."""
    last = run.history[-1] if run.history else {}
    epochs_done, train_seconds, n_train = len(run.history), run.train_seconds, run.data.count("train")
    return {
        "status": run.status,
        "message": run.message,
        "epochs": epochs_done,
        "train_samples": n_train,
        "train_seconds": train_seconds,
        "samples_per_second": epochs_done * n_train / train_seconds if train_seconds else 0.0,
        "train_loss": last.get("loss"),
        "train_accuracy": last.get("accuracy"),
        "val_loss": last.get("val_loss"),
        "val_accuracy": last.get("val_accuracy"),
        "test_loss": result.test_loss,
        "test_accuracy": result.test_accuracy,
        "device": str(device),
        "dataset": run.data.name,
    }
