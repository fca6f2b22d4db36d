"""The training loop the app and ``torchcanvas train`` run, step for step the loop of the exported script.

The model class comes from executing the generated script's own source; data, split, normalisation,
batch order (a seeded generator), and step order match the script, so on CPU an exported run reproduces
the app's per-epoch losses exactly. On top of the script's loop: events, pause/resume/stop, a stop on a
non-finite loss, mixed precision on CUDA, a run folder and the evaluation the dashboard shows.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from core.analysis import analyze
from core.codegen import generate_model
from core.datasets import Dataset, load_for_settings
from core.errors import TorchCanvasError, TrainingError
from core.portable.steps import augment, predict, to_target
from core.project import Project, dumps
from core.script import generate_script, input_dtype_of, input_shape_of, single_thread
from core.settings import TrainingSettings
from core.training.events import Throttle, TrainEvent, TrainResult
from core.training.loaders import Batches, check_fit, evaluate_split, explain_runtime_error, report
from core.training.run_folder import RunFolder, default_runs_dir
from core.training.setup import exec_source, make_loss, make_optimizer, make_scheduler, resolve_device


class NonFiniteLoss(TrainingError):
    """The loss became NaN or infinite."""


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
    ) -> None:
        self.project = project
        self.settings = TrainingSettings.from_dict(project.training.to_dict())
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.on_event = on_event
        self.data = data
        self.save = save
        self.data_dir = data_dir
        self.event_interval = event_interval
        self.device = torch.device("cpu")
        self.model: torch.nn.Module | None = None
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
            torch.use_deterministic_algorithms(previous)
            torch.set_num_threads(threads)
            if self._folder is not None:
                self._folder.close()

    def _failed(self, message: str) -> TrainResult:
        self._emit("end", message=message)
        run_dir = self._folder.path if self._folder is not None else None
        return TrainResult("failed", message, device=str(self.device), run_dir=run_dir)

    def _prepare(self) -> tuple[Dataset, Any, str]:
        s = self.settings
        self.device, notice = resolve_device(s.device)
        if notice:
            self._emit("notice", message=notice)
        analysis = analyze(self.project.graph)
        if not analysis.ok:
            listing = "\n".join(f"- {p.message}" for p in analysis.errors)
            raise TrainingError(f"The network has problems to fix before training:\n{listing}")
        if self.device.type == "cpu" and single_thread(analysis.total_params):
            torch.set_num_threads(1)  # as the exported script does, before it loads the data
        code = generate_script(self.project)
        script = code.source
        namespace, filename = exec_source(script)
        self._code = (filename, code.line_to_node)
        data = self.data
        if data is None:

            def progress(message: str, fraction: float | None) -> None:
                self._emit("notice", message=message if fraction is None else f"{message} {fraction:.0%}")

            shape, dtype = input_shape_of(self.project), input_dtype_of(self.project)
            data = load_for_settings(s, shape, self.data_dir, progress, input_dtype=dtype)
        expected = input_shape_of(self.project)
        if tuple(data.input_shape) != expected:
            raise TrainingError(
                f"The samples of {data.name} have shape {list(data.input_shape)} but the Input node expects "
                f"{list(expected)}: set the Input shape to {list(data.input_shape)}."
            )
        check_fit(analysis.output_shapes(self.project.graph), data, s.loss)
        return data, namespace["Net"], script

    def _run(self) -> TrainResult:
        s = self.settings
        data, net_class, script = self._prepare()
        device = self.device
        use_amp = device.type == "cuda" and s.amp
        no_autocast = contextlib.nullcontext()
        torch.manual_seed(s.seed)
        model = net_class().to(device)
        self.model = model
        loss_fn = make_loss(s.loss)
        optimizer = make_optimizer(s, model.parameters())
        n_train = data.count("train")
        steps_per_epoch = math.ceil(n_train / s.batch_size)
        scheduler = make_scheduler(s, optimizer, steps_per_epoch)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        shuffle = torch.Generator().manual_seed(s.seed)
        augmenting = bool(s.augment_flip or s.augment_rotation or s.augment_shift) and len(data.input_shape) == 3
        augmenting = augmenting and data.input_dtype != "int64"  # images only, never token ids (as the script)
        classify = data.task == "classification"
        tensors = {}
        if data.in_memory:
            tensors = {k: getattr(data, k).to(device) for k in ("x_train", "y_train", "x_val", "y_val")}

        source = Batches(data, tensors, s, shuffle, device)
        folder = self._folder = self._open_folder(script, data)
        history: list[dict[str, Any]] = []
        status, message, waited, best_value = "finished", "", 0, None
        train_seconds, step, throttle = 0.0, 0, Throttle(self.event_interval)
        monitor = s.monitor if data.count("val") else s.monitor.removeprefix("val_")
        self._emit("start", batches=steps_per_epoch, message=f"Training on {device} with {data.name}.")
        for epoch in range(1, s.epochs + 1):
            model.train()
            good = {k: v.detach().clone() for k, v in model.state_dict().items()}
            started, paused = time.perf_counter(), 0.0
            total_loss, seen, value = 0.0, 0, 0.0
            hits = torch.zeros((), dtype=torch.int64, device=device)
            for b, (inputs, labels) in enumerate(source.epoch(), start=1):
                if not self._go.is_set():
                    paused += self._wait_if_paused(epoch)
                if self._stop.is_set():
                    break
                if augmenting:
                    inputs = augment(inputs, s.augment_flip, float(s.augment_rotation), s.augment_shift)
                with torch.autocast(device.type) if use_amp else no_autocast:
                    outputs = model(inputs)
                    loss = loss_fn(outputs, to_target(outputs, labels, s.loss))
                value = loss.item()
                if not math.isfinite(value):
                    model.load_state_dict(good)  # the weights from before this epoch
                    status = "failed"
                    message = (
                        f"The loss became {value} at epoch {epoch}, batch {b}, so training stopped; the weights "
                        f"from before epoch {epoch} were kept. Try a lower learning rate (now {s.lr:g}), "
                        "normalised inputs, or gradient clipping."
                    )
                    break
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                if s.grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                if s.scheduler == "OneCycleLR":
                    scheduler.step()
                total_loss += value * len(labels)
                if classify:  # counted on the device; read only when reported
                    hits += (predict(outputs, s.loss) == labels).sum()
                seen += len(labels)
                step += 1
                if throttle.ready(force=b == 1):
                    elapsed = max(time.perf_counter() - started - paused, 1e-9)
                    rate = seen / elapsed
                    left = (s.epochs - epoch) * n_train + (n_train - seen)
                    correct = int(hits)
                    self._emit(
                        "batch",
                        epoch=epoch,
                        batch=b,
                        batches=steps_per_epoch,
                        step=step,
                        loss=value,
                        accuracy=correct / seen if classify else None,
                        lr=float(optimizer.param_groups[0]["lr"]),
                        samples_per_s=rate,
                        eta_s=left / rate,
                    )
            seconds = time.perf_counter() - started - paused
            train_seconds += seconds
            correct = int(hits)
            if status == "failed" or self._stop.is_set() or seen < n_train:
                if status != "failed":
                    status, message = "stopped", f"Stopped by the user during epoch {epoch}."
                break
            val_loss, val_accuracy = evaluate_split(model, data, "val", tensors, loss_fn, s, device)
            row = {
                "epoch": epoch,
                "loss": total_loss / n_train,
                "accuracy": correct / n_train if classify else None,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy if classify else None,
                "lr": float(optimizer.param_groups[0]["lr"]),
                "seconds": seconds,
            }
            history.append(row)
            self._emit(
                "epoch",
                epoch=epoch,
                batch=steps_per_epoch,
                batches=steps_per_epoch,
                step=step,
                loss=row["loss"],
                accuracy=row["accuracy"],
                lr=row["lr"],
                samples_per_s=n_train / max(seconds, 1e-9),
                eta_s=(s.epochs - epoch) * seconds,
                val_loss=val_loss,
                val_accuracy=row["val_accuracy"],
                seconds=seconds,
            )
            watched = row.get(monitor)
            improved = watched is not None and (
                best_value is None or (watched > best_value if monitor.endswith("accuracy") else watched < best_value)
            )
            if folder is not None:
                folder.log_epoch(row)
                folder.save_weights("last.pt", model)
                if improved:
                    folder.save_weights("best.pt", model)
            if improved:
                best_value = watched
            if s.scheduler in ("StepLR", "CosineAnnealingLR"):
                scheduler.step()
            elif s.scheduler == "ReduceLROnPlateau":
                scheduler.step(watched)
            if s.early_stopping:
                waited = 0 if improved else waited + 1
                if waited >= s.early_stopping:
                    message = f"Early stopping: no better {monitor} for {s.early_stopping} epochs."
                    self._emit("notice", epoch=epoch, message=message)
                    break
        return self._finish(model, data, tensors, loss_fn, folder, history, status, message, train_seconds)

    def _open_folder(self, script: str, data: Dataset) -> RunFolder | None:
        if not self.save:
            return None
        folder = RunFolder(self.out_dir or default_runs_dir(), self.project.name)
        folder.write_text("model.py", generate_model(self.project.graph, title=self.project.name).source)
        folder.write_text("train.py", script)
        folder.write_text("project.json", dumps(self.project))
        hparams = self.settings.to_dict()
        hparams.update(device=str(self.device), dataset_name=data.name, input_shape=list(data.input_shape))
        folder.write_json("hparams.json", hparams)
        return folder

    def _finish(
        self,
        model: torch.nn.Module,
        data: Dataset,
        tensors: dict[str, torch.Tensor],
        loss_fn: torch.nn.Module,
        folder: RunFolder | None,
        history: list[dict[str, Any]],
        status: str,
        message: str,
        train_seconds: float,
    ) -> TrainResult:
        s = self.settings
        result = TrainResult(status, message, history, class_names=list(data.class_names), device=str(self.device))  # type: ignore[arg-type]
        if status != "failed" and data.count("test"):
            result.test_loss, result.test_accuracy, predictions, labels = evaluate_split(
                model, data, "test", tensors, loss_fn, s, self.device, keep=True
            )
            if data.task == "classification":
                report(result, predictions, labels, data.num_classes)
            else:
                result.test_accuracy = None
        last = history[-1] if history else {}
        epochs_done = len(history)
        result.summary = {
            "status": status,
            "message": message,
            "epochs": epochs_done,
            "train_samples": data.count("train"),
            "train_seconds": train_seconds,
            "samples_per_second": epochs_done * data.count("train") / train_seconds if train_seconds else 0.0,
            "train_loss": last.get("loss"),
            "train_accuracy": last.get("accuracy"),
            "val_loss": last.get("val_loss"),
            "val_accuracy": last.get("val_accuracy"),
            "test_loss": result.test_loss,
            "test_accuracy": result.test_accuracy,
            "device": str(self.device),
            "dataset": data.name,
        }
        if folder is not None:
            if status == "failed":
                folder.save_weights("last.pt", model)  # the last good weights
            result.run_dir = folder.path
            result.summary["run_dir"] = str(folder.path)
            folder.write_json("summary.json", result.summary)
        self._emit("end", epoch=epochs_done, loss=last.get("loss"), message=message or "Training finished.")
        return result
