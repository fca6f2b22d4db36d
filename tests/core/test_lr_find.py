"""The learning-rate range test (core.inspect.lr_find) and ``torchcanvas lr-find``."""

from __future__ import annotations

import math

import pytest

from core.cli import main
from core.datasets import load_dataset
from core.files.project import save
from core.inspect.lr_find import LrCurve, RangeTest, lr_find, suggest
from core.inspect.nodes import InspectError
from tests.core.train_fixtures import example


def test_the_rate_rises_exponentially_from_start_to_end() -> None:
    test = RangeTest(1e-6, 1.0, 7, stop=lambda: None)
    assert [round(math.log10(test.rate(k)), 9) for k in range(7)] == [-6, -5, -4, -3, -2, -1, 0]
    with pytest.raises(InspectError, match="0 < start < end"):
        RangeTest(1.0, 1e-3, 10, stop=lambda: None)


def test_the_suggestion_is_the_steepest_descent_or_the_minimum_over_ten() -> None:
    rates = [10 ** (k / 4 - 6) for k in range(20)]  # 1e-6 .. ~5e-2
    losses = [2.0] * 8 + [1.9, 1.5, 1.0, 0.9, 0.85, 0.8, 0.8, 0.9, 1.5, 3.0, 6.0, 9.0]
    curve = suggest(LrCurve(rates=rates, losses=losses, raw=losses))
    assert curve.method == "steepest descent" and curve.steepest == rates[9]  # 1.9 -> 1.0 around rates[9]
    assert curve.suggestion == rates[9] and curve.minimum_tenth == pytest.approx(rates[13] / 10)
    flat = suggest(LrCurve(rates=rates[:5], losses=[2.0, 1.9, 1.8, 1.9, 2.5], raw=[2.0] * 5))
    assert flat.method == "minimum / 10" and flat.suggestion == pytest.approx(rates[2] / 10)


@pytest.mark.slow
def test_a_range_test_on_the_digits_mlp_stops_when_the_loss_diverges_and_suggests_a_usable_rate() -> None:
    project = example("digits_mlp")
    before = project.training.to_dict()
    data = load_dataset("digits", input_shape=(1, 8, 8))
    points: list[tuple[float, float]] = []
    curve = lr_find(project, data=data, on_point=lambda rate, loss: points.append((rate, loss)))
    assert 20 < len(curve.rates) < 100  # stopped before the 100 steps: the loss blew up
    assert "passed 4x its lowest" in curve.stopped or "became" in curve.stopped
    assert curve.losses[-1] > 4 * min(curve.losses) or not math.isfinite(curve.raw[-1])
    assert points == list(zip(curve.rates, curve.losses))
    assert 1e-4 <= curve.suggestion <= 0.3 and curve.method == "steepest descent"
    assert curve.losses[0] > min(curve.losses) + 0.2  # the curve has a real descent
    assert project.training.to_dict() == before  # the project keeps its settings
    assert "Suggested learning rate" in curve.message() and "Adam" in curve.message()


@pytest.mark.slow
def test_the_lr_find_command_prints_the_suggestion_and_writes_the_curve(tmp_path, capsys) -> None:
    path = tmp_path / "p.json"
    save(example("digits_mlp"), path)
    assert main(["lr-find", str(path), "--steps", "60", "--csv", str(tmp_path / "curve.csv")]) == 0
    out = capsys.readouterr().out
    assert "Suggested learning rate:" in out and "rate" in out.splitlines()[0]
    rows = (tmp_path / "curve.csv").read_text().splitlines()
    assert rows[0] == "rate,smoothed_loss,loss" and 10 < len(rows) <= 61
    assert main(["lr-find", str(path), "--start", "1", "--end", "0.1"]) == 2
    assert "0 < start < end" in capsys.readouterr().err
