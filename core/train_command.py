"""``torchcanvas train PROJECT``: train from the command line with a Keras-like progress line per epoch."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

# cli imports this module only for `torchcanvas train`, which needs all of these (progress_line imports torch).
from core.cli import command
from core.datasets.spec import HELP
from core.errors import ParameterError
from core.files.initial_weights import initial_weights
from core.files.project import Project, load
from core.portable.steps import progress_line
from core.settings import DEVICES, OPTIMIZERS, TrainingSettings
from core.training import Trainer
from core.training.events import TrainEvent
from core.training.precheck import check_before_training
from core.training.run_folder import prepare_runs_dir

if TYPE_CHECKING:
    from core.training.watch import Watcher


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--data", metavar="SPEC", help=f"dataset instead of the project's ({HELP})")
    p.add_argument("--epochs", type=int, metavar="N")
    p.add_argument("--batch-size", type=int, metavar="B")
    p.add_argument("--lr", type=float, metavar="LR", help="learning rate")
    p.add_argument("--optimizer", metavar="NAME", help=f"one of {', '.join(OPTIMIZERS)}")
    p.add_argument("--device", metavar="DEVICE", help=f"one of {', '.join(DEVICES)}")
    p.add_argument("--seed", type=int, metavar="S")
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--fine-tune",
        dest="fine_tune",
        action="store_true",
        default=None,
        help="start from the project's initial weights (an imported model's)",
    )
    start.add_argument("--from-scratch", dest="fine_tune", action="store_false", help="start from fresh random weights")
    p.add_argument("--out", metavar="DIR", default="runs", help="folder for the run folder (default: ./runs)")
    p.add_argument(
        "--no-health",
        dest="health",
        action="store_false",
        help="do not watch layer health (by default diagnoses such as dead ReLUs, vanishing gradients or a NaN "
        "loss are printed as they are found)",
    )
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="write each layer's weight and gradient histograms into the run folder's tensorboard/ (needs pip "
        'install "torchcanvas[tensorboard]")',
    )


def _override(settings: TrainingSettings, args: argparse.Namespace) -> TrainingSettings:
    values = settings.to_dict()
    for key, attr in (
        ("dataset", "data"),
        ("epochs", "epochs"),
        ("batch_size", "batch_size"),
        ("lr", "lr"),
        ("optimizer", "optimizer"),
        ("device", "device"),
        ("seed", "seed"),
        ("fine_tune", "fine_tune"),
    ):
        value = getattr(args, attr, None)
        if value is not None:
            values[key] = value
    if isinstance(values["optimizer"], str):  # accept adam, sgd, rmsprop ...
        values["optimizer"] = next(
            (o for o in OPTIMIZERS if o.lower() == values["optimizer"].lower()), values["optimizer"]
        )
    try:
        return TrainingSettings.from_dict(values)
    except ParameterError as exc:
        raise ParameterError(str(exc).replace("training.", "--").replace("--dataset", "--data")) from None


class _Printer:
    """Prints one Keras-like line per epoch (and notices) as events arrive."""

    def __init__(self) -> None:
        self.batches = 0
        self.said: set[str] = set()  # notices already printed (early stopping's is also the result's message)

    def __call__(self, event: TrainEvent) -> None:
        if event.kind == "start":
            self.batches = event.batches
            print(event.message, flush=True)
        elif event.kind == "notice":
            self.said.add(event.message)
            print(event.message, flush=True)
        elif event.kind == "epoch":
            metrics = {"loss": event.loss, "accuracy": event.accuracy}
            metrics.update(val_loss=event.val_loss, val_accuracy=event.val_accuracy)
            shown = {k: v for k, v in metrics.items() if v is not None and v == v}
            seconds = event.seconds or 0.0
            samples = round((event.samples_per_s or 0.0) * seconds)
            print(f"Epoch {event.epoch}/{event.epochs}")
            print(progress_line(event.batches, seconds, samples, shown), flush=True)


class _CtrlC:
    """The first Ctrl+C stops the run after the current batch, so the run folder gets its summary.json with
    status "stopped"; a second one quits at once."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.pressed = False
        self.previous: Any = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self.trainer.stop()
        with contextlib.suppress(OSError):  # os.write: safe even while a print is under way
            os.write(sys.stderr.fileno(), b"\nStopping after this batch (Ctrl+C again to quit at once)...\n")

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _check_first(project: Project) -> int:
    """What ``torchcanvas check`` calls an error stops the run here, in check's words, before anything is
    written; its warnings (extra outputs, images resized or turned grey) are printed before the first epoch.
    The window's Train runs the same check (``core.training.precheck``)."""
    found = check_before_training(project)
    if found.errors:
        print(f"torchcanvas: error: {found.refusal()}", file=sys.stderr)
        return 1
    for warning in found.warnings:
        print(f"warning: {warning}", flush=True)
    return 0


@command("train", _train_args)
def run_train(args: argparse.Namespace) -> int:
    project = load(args.project)
    project.training = _override(project.training, args)
    refused = _check_first(project)
    if refused:
        return refused
    out = prepare_runs_dir(args.out)  # a file or an uncreatable folder is a message now, not after training
    start = initial_weights(project, args.project)
    printer = _Printer()
    watchers: list[Watcher] = []
    if args.health:  # core.inspect.health: printed as found, on the training thread (this one)
        from core.inspect.health import HealthWatcher  # deferred: a run without --health need not load it

        watchers.append(HealthWatcher.for_project(project, on_diagnosis=lambda d: print(f"Health: {d.message}")))
    if args.tensorboard:  # core.inspect.tensorboard: refused in words before training when it is not installed
        from core.inspect.tensorboard import TensorBoardWatcher  # deferred, as HealthWatcher

        watchers.append(TensorBoardWatcher())
    trainer = Trainer(project, out_dir=out, on_event=printer, initial_weights=start, watchers=watchers)
    with _CtrlC(trainer) as ctrl_c:
        try:
            result = trainer.run()
        except KeyboardInterrupt:
            trainer.stop()
            raise
    if result.status == "failed":
        print(f"torchcanvas: error: {result.message}", file=sys.stderr)
        return 1
    if result.message and result.message not in printer.said:
        print(result.message)
    if result.test_accuracy is not None:
        print(f"Test loss: {result.test_loss:.4f} - test accuracy: {result.test_accuracy:.4f}")
    elif result.test_loss is not None:
        print(f"Test loss: {result.test_loss:.4f}")
    if result.regression is not None:
        print(result.regression.line())
    print(f"Run folder: {result.run_dir} (summary.json, metrics.csv, weights, train.py)")
    if args.tensorboard and result.run_dir is not None:
        print(f"TensorBoard histograms: tensorboard --logdir {result.run_dir / 'tensorboard'}")
    if ctrl_c.pressed:
        print(f'Stopped by Ctrl+C after {len(result.history)} epoch(s); summary.json says "{result.status}".')
        return 130
    return 0 if result.status == "finished" else 3
