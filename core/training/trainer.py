"""Runs the exported script's own training loop in the app and for ``torchcanvas train``.

The trainer executes the generated script and takes its ``Net``, ``make_optimizer``, ``make_scheduler`` and
``train_one_epoch`` (``core.code.script_loop``): the code a user exports is the code the app runs, so on CPU an
exported run reproduces the app's per-epoch losses exactly. The one hook is ``train_one_epoch``'s ``on_batch``:
through it come the events, pause/resume/stop and a stop on a non-finite loss (a stop leaves the loop by raising
``_Stopped``). Around the loop: the run folder (``core.training.run_record``), the evaluation the dashboard shows,
the per-epoch schedule and early stopping, which the script's ``main`` does in the same order
(``core.training.epoch_end``: what a run does once an epoch's batches are done).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from core.code.codegen import attribute_names
from core.code.script import generate_script, input_dtype_of, input_shape_of
from core.code.script_loop import regresses, scheduler_parameters, single_thread, train_epoch_parameters, uses_amp
from core.code.script_transfer import Transfer, transfer_plan
from core.datasets import Dataset, load_for_settings
from core.errors import TorchCanvasError, TrainingError
from core.files.project import Project
from core.model.analysis import analyze
from core.model.compute import multiply_adds
from core.portable.steps import classes_of
from core.settings import TrainingSettings
from core.training.epoch_end import end_of_epoch, record_epoch, tell_epoch
from core.training.events import Throttle, TrainEvent, TrainResult
from core.training.loaders import Batches, check_fit, explain_runtime_error
from core.training.run_folder import RunFolder
from core.training.run_record import EpochSums, Run, finish_run, open_run_folder
from core.training.setup import make_loss, resolve_device, run_as_module, start_weights
from core.training.watch import Watcher, optional_hook

HELD = 64  # batches of outputs held before their hits are counted (bounds the memory they keep)


def make_scheduler(
    script: ModuleType, s: TrainingSettings, optimizer: Any, steps_per_epoch: int, phases: bool, epochs: int
) -> Any:
    """The script's ``make_scheduler`` given what it takes (``steps_per_epoch`` only for OneCycleLR; with two
    phases a schedule laid over epochs takes the phase's ``epochs``), as its ``main`` calls it; None without a
    schedule."""
    if s.scheduler == "none":
        return None
    given = {"optimizer": optimizer, "steps_per_epoch": steps_per_epoch, "epochs": epochs}
    return script.make_scheduler(*(given[name] for name in scheduler_parameters(s, phases)))


class _Stopped(Exception):
    """Raised from ``on_batch`` to leave the script's ``train_one_epoch`` between two batches."""


class Trainer:
    """Trains a project's network on its dataset. ``run()`` blocks: call it from a worker thread;
    ``pause()``, ``resume()`` and ``stop()`` may be called from any thread and act within one batch."""

    def __init__(
        self,
        project: Project,
        *,
        out_dir: str | Path | None = None,
        on_event: Callable[[TrainEvent], None] | None = None,
        data: Dataset | None = None,
        save: bool = True,
        data_dir: str | Path | None = None,
        event_interval: float = 0.1,
        initial_weights: str | Path | None = None,
        watchers: Sequence[Watcher] = (),
    ) -> None:
        self.project = project
        self.watchers = tuple(watchers)  # looked at after each batch (core.training.watch)
        self.initial_weights = initial_weights  # loaded before training when settings.fine_tune is set
        self.settings = TrainingSettings.from_dict(project.training.to_dict())
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.on_event = on_event
        self.data = data
        self.save = save
        self.data_dir = data_dir
        self.event_interval = event_interval
        self.device = torch.device("cpu")
        self.model: torch.nn.Module | None = None
        self._transfer = Transfer()  # what the script does for transfer learning (frozen nodes, phases)
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()

    # -- control from other threads -------------------------------------------------------------
    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()

    @property
    def is_paused(self) -> bool:
        return not self._go.is_set() and not self._stop.is_set()

    def _emit(self, kind: str, **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event(TrainEvent(kind, epochs=self.settings.epochs, **fields))  # type: ignore[arg-type]

    def _wait_if_paused(self, epoch: int) -> float:
        """Block while paused; returns the seconds spent waiting (left out of the timings)."""
        if self._go.is_set():
            return 0.0
        started = time.perf_counter()
        self._emit("notice", epoch=epoch, message="Paused.")
        while not self._go.wait(0.05):
            pass
        if not self._stop.is_set():
            self._emit("notice", epoch=epoch, message="Resumed.")
        return time.perf_counter() - started

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        """Train and evaluate; never raises for a user problem (the result says 'failed' and why)."""
        previous = torch.are_deterministic_algorithms_enabled()
        threads = torch.get_num_threads()
        self._folder: RunFolder | None = None
        self._code: tuple[str, dict[int, str]] = ("", {})
        self._attached: list[Watcher] = []
        try:
            if self.settings.deterministic:
                torch.use_deterministic_algorithms(True, warn_only=True)
            return self._run()
        except TorchCanvasError as exc:
            return self._failed(str(exc))
        except torch.cuda.OutOfMemoryError:
            return self._failed("The GPU ran out of memory: lower the batch size or make the network smaller.")
        except RuntimeError as exc:
            return self._failed(explain_runtime_error(exc, *self._code, self.project.graph))
        finally:
            for watcher in self._attached:
                watcher.detach()
            torch.use_deterministic_algorithms(previous)
            torch.set_num_threads(threads)
            if self._folder is not None:
                self._folder.close()

    def _failed(self, message: str) -> TrainResult:
        self._emit("end", message=message)
        run_dir = self._folder.path if self._folder is not None else None
        return TrainResult("failed", message, device=str(self.device), run_dir=run_dir)

    def _prepare(self) -> tuple[Dataset, ModuleType, str]:
        """Check the network, build and execute its script, and load the data it will train on."""
        s = self.settings
        self.device, notice = resolve_device(s.device)
        if notice:
            self._emit("notice", message=notice)
        analysis = analyze(self.project.graph)
        if not analysis.ok:
            listing = "\n".join(f"- {p.message}" for p in analysis.errors)
            raise TrainingError(f"The network has problems to fix before training:\n{listing}")
        if self.device.type == "cpu" and single_thread(multiply_adds(self.project.graph, analysis), s.batch_size):
            torch.set_num_threads(1)  # as the exported script does, before it loads the data
        code = generate_script(self.project)
        self._transfer = transfer_plan(self.project, analysis, attribute_names(self.project.graph, analysis))
        script, filename = run_as_module(code.source)
        self._code = (filename, code.line_to_node)
        data = self.data if self.data is not None else self._load_data()
        expected = input_shape_of(self.project)
        if tuple(data.input_shape) != expected:
            raise TrainingError(
                f"The samples of {data.name} have shape {list(data.input_shape)} but the Input node expects "
                f"{list(expected)}: set the Input shape to {list(data.input_shape)}."
            )
        check_fit(analysis.output_shapes(self.project.graph), data, s.loss)
        return data, script, code.source

    def _load_data(self) -> Dataset:
        def progress(message: str, fraction: float | None) -> None:
            self._emit("notice", message=message if fraction is None else f"{message} {fraction:.0%}")

        shape, dtype = input_shape_of(self.project), input_dtype_of(self.project)
        return load_for_settings(self.settings, shape, self.data_dir, progress, input_dtype=dtype)

    def _setup(self, data: Dataset, script: ModuleType, source: str) -> Run:
        """Model, optimizer, scheduler and batches, made by the script's own functions."""
        s, device = self.settings, self.device
        torch.manual_seed(s.seed)
        model = self.model = script.Net()
        self._start_weights(model, script)
        model = self.model = model.to(device)
        if self._transfer.frozen:
            script.freeze(model)
        optimizer = script.make_optimizer(model)
        steps_per_epoch = math.ceil(data.count("train") / s.batch_size)
        phases = self._transfer.phases  # then phase one's schedule covers FREEZE_EPOCHS
        scheduler = make_scheduler(script, s, optimizer, steps_per_epoch, phases, s.freeze_epochs)
        scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and uses_amp(s))
        shuffle = torch.Generator().manual_seed(s.seed)
        tensors = {}
        if data.in_memory:
            tensors = {k: getattr(data, k).to(device) for k in ("x_train", "y_train", "x_val", "y_val")}
        loss_fn = make_loss(s.loss)
        given = {"model": model, "loss_fn": loss_fn, "optimizer": optimizer, "scaler": scaler, "scheduler": scheduler}
        return Run(
            data=data,
            model=model,
            loss_fn=loss_fn,
            optimizer=optimizer,
            scheduler=scheduler,
            train_one_epoch=script.train_one_epoch,
            epoch_args={name: given[name] for name in train_epoch_parameters(s) if name != "batches"},
            batches=Batches(data, tensors, s, shuffle, device),
            tensors=tensors,
            folder=open_run_folder(self.out_dir, self.project, s, device, source, data, self._imported())
            if self.save
            else None,
            steps_per_epoch=steps_per_epoch,
            throttle=Throttle(self.event_interval),
            monitor=s.monitor if data.count("val") else s.monitor.removeprefix("val_"),
            regression=regresses(s),
        )

    def _imported(self) -> Path | None:
        """The imported weights the run starts from, when its script loads them (``Transfer.imported``)."""
        start = Path(self.initial_weights) if self.initial_weights is not None else None
        return start if start is not None and start.name == self._transfer.imported else None

    def _start_weights(self, model: torch.nn.Module, script: ModuleType) -> None:
        """The weights training starts from (``core.training.setup.start_weights``), said in a notice."""
        extra = self.project.extra.get("initial_weights")
        imported = self.initial_weights if self.settings.fine_tune else None
        missing = extra if self.settings.fine_tune and isinstance(extra, str) else None
        notice = start_weights(model, script, self._transfer.initial, imported, missing)
        if notice:
            self._emit("notice", message=notice)

    def _run(self) -> TrainResult:
        data, script, source = self._prepare()
        run = self._setup(data, script, source)
        self._folder = run.folder
        for watcher in self.watchers:
            told = optional_hook(watcher, "attach_folder")
            if told is not None:
                told(run.folder.path if run.folder is not None else None)
            watcher.attach(run.model, run.optimizer)
            self._attached.append(watcher)
        self._emit("start", batches=run.steps_per_epoch, message=f"Training on {self.device} with {data.name}.")
        for epoch in range(1, self.settings.epochs + 1):
            if self._transfer.phases and epoch == self.settings.freeze_epochs + 1:
                self._phase_two(run, script, epoch)
            sums = self._train_one_epoch(run, epoch)
            if run.status == "failed" or self._stop.is_set() or sums.seen < data.count("train"):
                if run.status != "failed":
                    run.status, run.message = "stopped", f"Stopped by the user during epoch {epoch}."
                break
            row = record_epoch(run, epoch, sums, script, self.settings, self.device, self._emit)
            tell_epoch(run, epoch, row, self._attached)
            if end_of_epoch(run, epoch, row, script, self.settings, self._emit):
                break
        if run.best_weights is not None and run.status != "failed":  # early stopping: main tests the best epoch
            run.model.load_state_dict(run.best_weights)
        result = finish_run(run, self.settings, self.device)
        last = run.history[-1] if run.history else {}
        self._emit("end", epoch=len(run.history), loss=last.get("loss"), message=run.message or "Training finished.")
        return result

    def _phase_two(self, run: Run, script: ModuleType, epoch: int) -> None:
        """What the script's ``main`` does at ``FREEZE_EPOCHS + 1``: its ``unfreeze`` gives a new optimizer over
        every weight at the lower learning rate, and the schedule starts again on it."""
        run.optimizer = script.unfreeze(run.model)
        if run.scheduler is not None:
            s, steps = self.settings, run.steps_per_epoch  # phase two's schedule: the epochs left
            run.scheduler = make_scheduler(script, s, run.optimizer, steps, True, s.epochs - s.freeze_epochs)
        for name, value in (("optimizer", run.optimizer), ("scheduler", run.scheduler)):
            if name in run.epoch_args:
                run.epoch_args[name] = value
        lr = float(run.optimizer.param_groups[0]["lr"])
        self._emit("notice", epoch=epoch, message=f"Phase two: every layer trains now, at learning rate {lr:g}.")

    def _train_one_epoch(self, run: Run, epoch: int) -> EpochSums:
        """Run the script's ``train_one_epoch`` over one epoch; its ``on_batch`` counts, reports, pauses, and
        stops (by raising ``_Stopped``) on a stop request or a non-finite loss."""
        sums = EpochSums(torch.zeros((), dtype=torch.int64, device=self.device))
        good = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
        started, paused = time.perf_counter(), 0.0
        classify, loss_name, watchers = run.data.task == "classification", self.settings.loss, self._attached
        going, stopping = self._go.is_set, self._stop.is_set
        batch = 0
        # Each batch's outputs (detached: a view, no graph) and labels are held and their hits counted in one go when
        # the count is read (a batch event, the epoch's end) or HELD batches wait: a detach per batch instead of
        # argmax, == and += (the trainer's own time per batch fell from about 28 to 11 us, beside a 550 us step of
        # bench/data_table.py), and still no sync with the device.
        outputs_held: list[torch.Tensor] = []
        labels_held: list[torch.Tensor] = []

        def count_hits() -> None:
            if outputs_held:
                sums.hits += (classes_of(torch.cat(outputs_held), loss_name) == torch.cat(labels_held)).sum()
                outputs_held.clear()
                labels_held.clear()

        def on_batch(outputs: torch.Tensor, labels: torch.Tensor, value: float) -> None:
            nonlocal batch, paused
            batch += 1
            for watcher in watchers:
                watcher.after_batch(run.step + 1, value)
            if not math.isfinite(value):
                run.model.load_state_dict(good)  # the weights from before this epoch
                run.status, run.message = "failed", self._non_finite_message(value, epoch, batch)
                raise _Stopped
            n = labels.shape[0]
            sums.loss += value * n
            if classify:
                outputs_held.append(outputs.detach())
                labels_held.append(labels)
                if len(outputs_held) == HELD:
                    count_hits()
            sums.seen += n
            run.step += 1
            if run.throttle.ready(force=batch == 1):
                count_hits()
                self._emit_batch(run, epoch, batch, value, sums, time.perf_counter() - started - paused)
            if not going():
                paused += self._wait_if_paused(epoch)
            if stopping():
                raise _Stopped

        if not self._go.is_set():  # paused between epochs: wait before the first batch
            paused += self._wait_if_paused(epoch)
        if not self._stop.is_set():
            try:
                run.train_one_epoch(batches=run.batches.epoch(), on_batch=on_batch, **run.epoch_args)
            except _Stopped:
                pass
        count_hits()
        sums.seconds = time.perf_counter() - started - paused
        run.train_seconds += sums.seconds
        return sums

    def _non_finite_message(self, value: float, epoch: int, batch: int) -> str:
        """Which weights the network is left with, in words: before epoch 2 they are the ones it started from."""
        if epoch == 1:
            kept = "no epoch finished, so the network is back at the weights it started from (nothing was learned)"
        else:
            kept = f"the network keeps its weights from the end of epoch {epoch - 1}, the last good ones"
        return (
            f"The loss became {value} at epoch {epoch}, batch {batch}, so training stopped; {kept}. "
            f"Try a lower learning rate (now {self.settings.lr:g}), normalised inputs, or gradient clipping."
        )

    def _emit_batch(self, run: Run, epoch: int, batch: int, value: float, sums: EpochSums, seconds: float) -> None:
        n_train = run.data.count("train")
        rate = sums.seen / max(seconds, 1e-9)
        left = (self.settings.epochs - epoch) * n_train + (n_train - sums.seen)
        self._emit(
            "batch",
            epoch=epoch,
            batch=batch,
            batches=run.steps_per_epoch,
            step=run.step,
            loss=value,
            accuracy=int(sums.hits) / sums.seen if run.data.task == "classification" else None,
            lr=float(run.optimizer.param_groups[0]["lr"]),
            samples_per_s=rate,
            eta_s=left / rate,
        )
