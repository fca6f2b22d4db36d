"""The trainer's running counts (core.training.trainer): the hits of each batch are counted in groups (when a batch
event reads them, at the epoch's end, or after HELD batches), never lost or counted twice, whatever the grouping."""

from __future__ import annotations

import itertools

import pytest

from core.datasets import load_dataset
from core.training import Trainer
from core.training.trainer import HELD
from tests.core.train_fixtures import mlp_project

pytestmark = pytest.mark.slow  # two short runs


def run(digits, interval: float):
    events = []
    project = mlp_project([64], 16, 10, epochs=1, batch_size=8)  # 182 batches: more than HELD between two reads
    result = Trainer(project, data=digits, save=False, event_interval=interval, on_event=events.append).run()
    assert result.status == "finished", result.message
    return result.history[0], [e for e in events if e.kind == "batch"]


def test_hits_counted_in_groups_match_those_counted_every_batch() -> None:
    digits = load_dataset("digits", input_shape=(64,))
    every_batch, batches = run(digits, interval=0.0)  # each batch event reads the count: groups of one
    assert len(batches) > 2 * HELD
    counts = [round(e.accuracy * e.batch * 8) for e in batches[:-1]]  # hits so far (full batches of 8)
    assert all(abs(e.accuracy * e.batch * 8 - c) < 1e-6 for e, c in zip(batches, counts, strict=False))
    assert counts == sorted(counts) and all(b - a <= 8 for a, b in itertools.pairwise(counts))
    assert batches[-1].accuracy == pytest.approx(every_batch["accuracy"], abs=1e-12)  # the last read: the epoch
    rarely, batches = run(digits, interval=1e9)  # only batch 1 is reported: the rest in groups of HELD
    assert len(batches) == 1
    assert rarely["accuracy"] == every_batch["accuracy"] and rarely["loss"] == every_batch["loss"]
