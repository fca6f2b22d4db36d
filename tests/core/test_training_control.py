"""Stop and pause from another thread, a non-finite loss, CUDA fallback, events and the run folder."""

from __future__ import annotations

import csv
import json
import math
import re
import threading
import time

import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset
from core.training import Trainer, TrainEvent
from core.training.loaders import explain_runtime_error
from core.training.setup import exec_source, resolve_device
from tests.core.train_fixtures import mlp_project


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


def test_stop_from_another_thread_acts_within_one_batch(digits) -> None:
    project = mlp_project([64], 32, 10, epochs=1000, batch_size=8)
    batches: list[int] = []
    stopped_at: list[int] = []
    trainer: Trainer

    def on_event(event: TrainEvent) -> None:
        if event.kind == "batch":
            batches.append(event.step)
            if event.step == 30:
                worker = threading.Thread(target=lambda: (stopped_at.append(batches[-1]), trainer.stop()))
                worker.start()
                worker.join()

    trainer = Trainer(project, data=digits, save=False, on_event=on_event, event_interval=0.0)
    result = trainer.run()
    assert result.status == "stopped" and "Stopped by the user during epoch 1" in result.message
    assert stopped_at == [30] and batches[-1] == 30  # not a single batch more
    assert result.test_accuracy is not None  # the weights so far are still evaluated


def test_stop_between_epochs_trains_no_batch_of_the_next(digits) -> None:
    """A stop that arrives while an epoch is being validated acts before the next epoch's first batch."""
    project = mlp_project([64], 32, 10, epochs=5, batch_size=64)
    events: list[TrainEvent] = []
    trainer: Trainer

    def on_event(event: TrainEvent) -> None:
        events.append(event)
        if event.kind == "epoch" and event.epoch == 1:
            trainer.stop()

    trainer = Trainer(project, data=digits, save=False, on_event=on_event, event_interval=0.0)
    result = trainer.run()
    assert result.status == "stopped" and "during epoch 2" in result.message
    assert [e.epoch for e in events if e.kind == "batch" and e.epoch == 2] == []


@pytest.mark.slow
def test_pause_and_resume_from_another_thread(digits) -> None:
    project = mlp_project([64], 32, 10, epochs=3, batch_size=16)
    events: list[TrainEvent] = []
    times: list[float] = []  # when each event was sent, on the training thread

    def on_event(event: TrainEvent) -> None:
        events.append(event)
        times.append(time.monotonic())

    trainer = Trainer(project, data=digits, save=False, on_event=on_event, event_interval=0.0)
    result_box = []
    worker = threading.Thread(target=lambda: result_box.append(trainer.run()))
    trainer.pause()
    worker.start()
    deadline = time.monotonic() + 20
    while not any(e.message == "Paused." for e in events) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert trainer.is_paused
    time.sleep(0.5)  # long enough to show in the epoch's seconds if it were counted
    trainer.resume()
    worker.join(30)
    result = result_box[0]
    assert result.status == "finished" and len(result.history) == 3
    messages = [e.message for e in events]
    resumed = messages.index("Resumed.")
    assert messages[resumed - 1] == "Paused."  # nothing moves while paused: no event between the two
    first_epoch = next(i for i, e in enumerate(events) if e.kind == "epoch")
    # pause time is left out: epoch 1's seconds fit between Resume and its own line (which also waited for the
    # validation); counted, they would exceed that by the 0.5 s pause. No wall-clock bound a slow machine misses.
    assert result.history[0]["seconds"] <= times[first_epoch] - times[resumed]


@pytest.mark.slow
def test_non_finite_loss_stops_at_once_and_keeps_good_weights(digits, tmp_path) -> None:
    project = mlp_project([64], 32, 10, optimizer="SGD", lr=1e6, epochs=5)
    trainer = Trainer(project, data=digits, out_dir=tmp_path)
    result = trainer.run()
    assert result.status == "failed"
    match = re.search(r"The loss became (nan|inf|-inf) at epoch (\d+), batch (\d+)", result.message)
    assert match, result.message
    assert "lower learning rate" in result.message and "normalised inputs" in result.message
    assert len(result.history) == int(match.group(2)) - 1  # it stopped in that very epoch
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    saved = torch.load(result.run_dir / "last.pt")
    assert all(torch.isfinite(t).all() for t in saved.values())


def test_cuda_requested_without_cuda_falls_back_to_cpu(digits, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cuda") == (torch.device("cpu"), resolve_device("cuda")[1])
    events: list[TrainEvent] = []
    project = mlp_project([64], 16, 10, epochs=1, device="cuda")
    result = Trainer(project, data=digits, save=False, on_event=events.append).run()
    assert result.status == "finished" and result.device == "cpu"
    notices = [e.message for e in events if e.kind == "notice"]
    assert any("No CUDA GPU is available" in m and "CPU instead" in m for m in notices)


@pytest.mark.slow
def test_events_carry_plain_numbers_and_are_throttled(digits) -> None:
    events: list[TrainEvent] = []
    project = mlp_project([64], 16, 10, epochs=2, batch_size=4)
    result = Trainer(project, data=digits, save=False, on_event=events.append, event_interval=10.0).run()
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    batches = [e for e in events if e.kind == "batch"]
    # one per epoch (plus one per 10 s on a very loaded machine), not one per batch (300)
    allowed = 2 + int(result.summary["train_seconds"] // 10.0)
    assert 1 <= len(batches) <= allowed < result.summary["train_samples"] // 4
    epoch = next(e for e in events if e.kind == "epoch")
    for value in (epoch.loss, epoch.accuracy, epoch.lr, epoch.samples_per_s, epoch.eta_s, epoch.val_loss):
        assert type(value) is float and math.isfinite(value)


def test_run_folder_contents(digits, tmp_path) -> None:
    project = mlp_project([64], 16, 10, epochs=2)
    result = Trainer(project, data=digits, out_dir=tmp_path).run()
    run = result.run_dir
    assert run.parent == tmp_path
    names = {p.name for p in run.iterdir()}
    assert {"metrics.csv", "hparams.json", "model.py", "train.py", "project.json", "last.pt", "best.pt"} <= names
    assert {"summary.json"} <= names and not [n for n in names if n.endswith(".tmp")]
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["loss"]) == pytest.approx(result.history[1]["loss"])
    assert json.loads((run / "hparams.json").read_text())["epochs"] == 2
    assert json.loads((run / "summary.json").read_text())["epochs"] == 2
    assert (run / "train.py").read_text() == generate_script(project).source
    state = torch.load(run / "best.pt")
    assert set(state) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}


def test_data_that_does_not_fit_the_input_is_refused(digits) -> None:
    result = Trainer(mlp_project([4], 8, 10), data=digits, save=False).run()
    assert result.status == "failed"
    assert "have shape [64] but the Input node expects [4]" in result.message


def test_runtime_error_inside_the_model_points_at_the_node() -> None:
    project = mlp_project([4], 8, 3)
    code = generate_script(project)
    namespace, filename = exec_source(code.source)
    model = namespace["Net"]()
    with pytest.raises(RuntimeError) as info:
        model(torch.zeros(2, 5))
    message = explain_runtime_error(info.value, filename, code.line_to_node, project.graph)
    assert message.startswith("fc1 (Linear) failed while training")
    assert "mat1" not in message.split(":")[0]


@pytest.mark.slow
def test_big_image_folder_trains_through_a_dataloader(tmp_path, monkeypatch) -> None:
    from core.datasets import folder as folder_module
    from tests.core.train_fixtures import write_images

    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    root = write_images(tmp_path / "pets", {"cats": 12, "dogs": 12})
    project = mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{root}", epochs=2, batch_size=8, lr=0.01)
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    assert len(result.history) == 2 and result.summary["train_samples"] == 20
    assert sum(map(sum, result.confusion)) == 2


@pytest.mark.slow
def test_same_seed_same_run_and_deterministic_switch_is_restored(digits) -> None:
    project = mlp_project([64], 16, 10, epochs=2, deterministic=True, seed=5)
    before = torch.are_deterministic_algorithms_enabled()
    first = Trainer(project, data=digits, save=False).run()
    assert torch.are_deterministic_algorithms_enabled() == before
    second = Trainer(project, data=digits, save=False).run()
    assert [r["loss"] for r in first.history] == [r["loss"] for r in second.history]
    other = Trainer(mlp_project([64], 16, 10, epochs=2, seed=6), data=digits, save=False).run()
    assert other.history[0]["loss"] != first.history[0]["loss"]


def test_tensorboard_events_when_installed(digits, tmp_path, monkeypatch) -> None:
    import sys
    import types

    scalars: list[tuple[str, float, int]] = []

    class FakeWriter:
        def __init__(self, logdir: str) -> None:
            self.logdir = logdir

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            scalars.append((tag, value, step))

        def close(self) -> None:
            scalars.append(("closed", 0.0, 0))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    Trainer(mlp_project([64], 16, 10, epochs=2), data=digits, out_dir=tmp_path).run()
    assert ("loss", pytest.approx(scalars[0][1]), 1) in [(t, v, s) for t, v, s in scalars]
    assert {t for t, _, _ in scalars} >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "closed"}
