"""Watchers (core.training.watch): attached once, told after every batch with the gradients still there,
detached however the run ends."""

from __future__ import annotations

import pytest
import torch

from core.datasets import load_dataset
from core.training import Trainer
from tests.core.train_fixtures import mlp_project


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.steps: list[int] = []
        self.grad_seen = False
        self.model: torch.nn.Module | None = None

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.calls.append("attach")
        self.model = model
        assert optimizer.param_groups

    def after_batch(self, step: int, loss: float) -> None:
        self.steps.append(step)
        assert self.model is not None
        self.grad_seen |= any(p.grad is not None and p.grad.abs().sum() > 0 for p in self.model.parameters())

    def detach(self) -> None:
        self.calls.append("detach")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


def test_watcher_sees_every_batch_with_gradients(digits) -> None:
    project = mlp_project([64], 16, 10, epochs=2, batch_size=256)
    watcher = Recorder()
    result = Trainer(project, data=digits, save=False, watchers=[watcher]).run()
    assert result.status == "finished"
    per_epoch = -(-digits.count("train") // 256)
    assert watcher.steps == list(range(1, 2 * per_epoch + 1))
    assert watcher.grad_seen
    assert watcher.calls == ["attach", "detach"]


def test_watcher_detached_when_the_run_is_stopped(digits) -> None:
    project = mlp_project([64], 16, 10, epochs=5, batch_size=32)
    trainer: Trainer

    class Stopper(Recorder):
        def after_batch(self, step: int, loss: float) -> None:
            super().after_batch(step, loss)
            if step == 3:
                trainer.stop()

    watcher = Stopper()
    trainer = Trainer(project, data=digits, save=False, watchers=[watcher])
    result = trainer.run()
    assert result.status == "stopped"
    assert watcher.steps == [1, 2, 3]
    assert watcher.calls == ["attach", "detach"]


def test_watcher_is_told_each_epoch_with_its_figures_and_the_classes(digits) -> None:
    """after_epoch: what a diagnosis about accuracy needs (batches never see it); a watcher without the method
    (Recorder) still runs beside one that has it."""
    project = mlp_project([64], 16, 10, epochs=2, batch_size=256)
    told: list[tuple[int, dict]] = []

    class EpochRecorder(Recorder):
        def after_epoch(self, epoch: int, metrics) -> None:
            told.append((epoch, dict(metrics)))

    plain = Recorder()
    result = Trainer(project, data=digits, save=False, watchers=[EpochRecorder(), plain]).run()
    assert result.status == "finished" and plain.calls == ["attach", "detach"]
    assert [epoch for epoch, _ in told] == [1, 2]
    for (_, metrics), row in zip(told, result.history, strict=True):
        assert metrics == {**row, "classes": 10}
