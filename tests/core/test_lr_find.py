"""The learning-rate range test (core.inspect.lr_find) and ``torchcanvas lr-find``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.cli import main
from core.datasets import load_dataset
from core.files.project import save
from core.inspect.lr_find import MIN_POINTS, LrCurve, RangeTest, lr_find, suggest
from core.inspect.nodes import InspectError
from tests.core.train_fixtures import example, mlp_project


def test_the_rate_rises_exponentially_from_start_to_end() -> None:
    test = RangeTest(1e-6, 1.0, 13, stop=lambda: None)
    assert [round(math.log10(test.rate(k)), 9) for k in range(0, 13, 2)] == [-6, -5, -4, -3, -2, -1, 0]
    with pytest.raises(InspectError, match="0 < start < end"):
        RangeTest(1.0, 1e-3, 10, stop=lambda: None)


def test_the_suggestion_is_the_steepest_descent_or_the_minimum_over_ten() -> None:
    rates = [10 ** (k / 4 - 6) for k in range(20)]  # 1e-6 .. ~5e-2
    losses = [2.0] * 8 + [1.9, 1.5, 1.0, 0.9, 0.85, 0.8, 0.8, 0.9, 1.5, 3.0, 6.0, 9.0]
    curve = suggest(LrCurve(rates=rates, losses=losses, raw=losses))
    assert curve.method == "steepest descent" and rates[8] <= curve.steepest <= rates[10]  # 1.9 -> 1.0
    assert curve.suggestion == curve.steepest and rates[11] / 10 <= curve.minimum_tenth <= rates[14] / 10
    # a curve that only rises suggests nothing (trial 5 J5: it suggested its minimum's rate / 10, noise)
    flat = suggest(LrCurve(rates=rates, losses=[2.0] * 20, raw=[2.0 + k * 1e-3 for k in range(20)]))
    assert flat.method == "no fall" and math.isnan(flat.suggestion)


def test_noise_in_the_first_batches_is_not_taken_for_the_steepest_descent() -> None:
    """F27: a regression's batch losses jump 2x at random; the plotted (lagging) average fell fastest between the
    first noisy batches, and the suggestion was 3e-07 for a table that trains at 0.01."""
    rng = np.random.default_rng(0)
    rates = [1e-7 * 10 ** (k * 8 / 91) for k in range(92)]
    true = [16.0 if r < 5e-3 else 16.0 - 5 * math.log10(r / 5e-3) for r in rates]  # falls from 5e-3 on
    true = [t if r < 1.0 else 40.0 for t, r in zip(true, rates)]
    raw = [max(0.5, t * rng.uniform(0.6, 1.4)) for t in true]
    raw[0], raw[1] = 11.0, 22.0  # the first two batches: a low one and a high one
    average, smoothed = 0.0, []
    for k, loss in enumerate(raw):  # the plotted curve: fastai's bias-corrected moving average
        average = 0.98 * average + 0.02 * loss
        smoothed.append(average / (1 - 0.98 ** (k + 1)))
    curve = suggest(LrCurve(rates=rates, losses=smoothed, raw=raw))
    assert 1e-3 <= curve.suggestion <= 0.3, curve.message()
    assert 1e-3 <= curve.minimum_tenth <= 0.3


def test_too_few_steps_are_refused_and_too_few_points_suggest_nothing() -> None:
    """F9: --steps 0, 1 or -5 ran 2 batches and suggested 1e-08."""
    for steps in (0, 1, -5, MIN_POINTS - 1):
        with pytest.raises(InspectError, match=f"between {MIN_POINTS} and"):
            RangeTest(1e-7, 10.0, steps, stop=lambda: None)
    short = suggest(LrCurve(rates=[1e-7, 10.0], losses=[1.1, 1.1], raw=[1.1, 1.1], optimizer="Adam", current=1e-3))
    assert math.isnan(short.suggestion) and "Too few points (2)" in short.message()


@pytest.mark.slow
def test_a_range_test_on_a_noisy_regression_table_suggests_a_usable_rate(tmp_path) -> None:
    """F27 end to end: 300 rows of y = 3a + 0.5b + noise, MSE, batches of 32 (the rate 0.01 fits it)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.uniform(0, 10, 300)
    y = 3 * a + 0.5 * b + 0.1 * rng.normal(size=300)
    table = tmp_path / "reg.csv"
    table.write_text("a,b,target\n" + "".join(f"{i:.4f},{j:.4f},{k:.4f}\n" for i, j, k in zip(a, b, y)))
    project = mlp_project(
        [2], 32, 1, dataset=f"table:{table}?label=target", loss="MSELoss", batch_size=32, val_fraction=0.2
    )
    curve = lr_find(project)
    assert len(curve.rates) > 50
    assert 1e-4 <= curve.suggestion <= 1e-1, curve.message()


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
    assert 1e-4 <= curve.suggestion <= 1e-1 and curve.method == "steepest descent"
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
    for steps in ("0", "1", "-5"):  # F9: refused in words, nothing run
        assert main(["lr-find", str(path), "--steps", steps]) == 2
        err = capsys.readouterr().err
        assert "between 10 and 10,000 steps" in err and "Traceback" not in err
