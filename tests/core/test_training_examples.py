"""The shipped examples learn: Digits MLP >= 95% validation accuracy in < 20 s; MNIST MLP >= 94% test accuracy."""

from __future__ import annotations

import time

import pytest

from core.training import Trainer
from tests.core.train_fixtures import MNIST, example, needs_mnist

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier


def test_digits_mlp_example_reaches_95_percent_quickly(tmp_path) -> None:
    started = time.process_time()  # this process's CPU seconds: other work on the machine does not count
    result = Trainer(example("digits_mlp"), out_dir=tmp_path).run()
    seconds = time.process_time() - started  # ~4 (11 of wall clock at load 10)
    assert result.status == "finished", result.message
    assert result.history[-1]["val_accuracy"] >= 0.95, result.history[-1]
    assert seconds < 20, f"took {seconds:.1f} s of CPU"


@needs_mnist
def test_mnist_mlp_example_on_mnist_10k_reaches_94_percent(tmp_path) -> None:
    project = example("mnist_mlp", dataset=f"npz:{MNIST / 'mnist_10k.npz'}")
    assert project.training.epochs == 5
    result = Trainer(project, out_dir=tmp_path).run()
    assert result.status == "finished", result.message
    assert result.test_accuracy >= 0.94, result.test_accuracy
    assert sum(map(sum, result.confusion)) == 2000  # the npz's own 2,000 test images


def test_digits_lstm_example_reads_digits_as_sequences() -> None:
    result = Trainer(example("digits_lstm", epochs=2), save=False).run()
    assert result.status == "finished", result.message
    assert result.history[-1]["val_accuracy"] > 0.5


def test_sequence_transformer_example_learns_which_marker_comes_first() -> None:
    """Embedding -> positional embedding -> 2 Transformer encoder layers -> mean -> Linear (8 epochs: ~99%)."""
    result = Trainer(example("sequence_transformer", epochs=2), save=False).run()
    assert result.status == "finished", result.message
    assert result.history[-1]["val_accuracy"] > 0.7, result.history[-1]
