"""Trial 4 I.9: the message of a run stopped by a NaN loss says which weights the network is left with. Before,
"the weights from before epoch 1 were kept" read as if something useful was saved, while they are the weights the
run started from; a stop in a later epoch names the epoch whose weights are kept."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import torch

from core.datasets import load_dataset
from core.training import Trainer
from core.training.watch import Watcher
from tests.core.train_fixtures import mlp_project


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


class _Poison(Watcher):
    """Keeps the weights of the last epoch's end (or the start), then sets one weight to NaN after the first batch
    of epoch ``at``, so the next batch's loss is NaN: a real stop in that epoch, whatever the learning rate."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.model: torch.nn.Module | None = None
        self.kept: dict[str, torch.Tensor] = {}
        self.epochs = 0

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.kept = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def after_batch(self, step: int, loss: float) -> None:
        if self.epochs == self.at - 1 and self.model is not None:
            with torch.no_grad():
                next(self.model.parameters()).view(-1)[0] = float("nan")

    def after_epoch(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        assert self.model is not None
        self.epochs = epoch
        self.kept = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def detach(self) -> None:
        self.model = None


def test_a_nan_in_epoch_one_says_the_network_is_back_at_its_starting_weights(digits, tmp_path) -> None:
    watcher = _Poison(at=1)
    result = Trainer(mlp_project([64], 32, 10, epochs=3), data=digits, out_dir=tmp_path, watchers=[watcher]).run()
    assert result.status == "failed" and "at epoch 1, batch 2" in result.message, result.message
    assert "before epoch 1" not in result.message and "were kept" not in result.message
    assert "back at the weights it started from" in result.message, result.message
    saved = torch.load(result.run_dir / "last.pt")
    assert all(torch.equal(saved[k], v) for k, v in watcher.kept.items())  # the starting weights, as it says


def test_a_nan_in_epoch_two_names_the_epoch_whose_weights_are_kept(digits, tmp_path) -> None:
    watcher = _Poison(at=2)
    result = Trainer(mlp_project([64], 32, 10, epochs=3), data=digits, out_dir=tmp_path, watchers=[watcher]).run()
    assert result.status == "failed" and "at epoch 2, batch 2" in result.message, result.message
    assert "weights from the end of epoch 1" in result.message, result.message
    saved = torch.load(result.run_dir / "last.pt")
    assert all(torch.equal(saved[k], v) for k, v in watcher.kept.items())  # what the message says is kept
