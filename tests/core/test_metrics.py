"""Regression runs are judged by MAE, RMSE and R² (issue 26): before, a regression run's result said only "test
accuracy None" and its summary.json had no figure that measured how close the predictions were."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from core.cli import main
from core.datasets import load_dataset
from core.files.built_model import build_model
from core.files.project import save
from core.training import Trainer
from core.training.metrics import regression_metrics
from tests.core.train_fixtures import mlp_project


def test_figures_match_scikit_learn_and_name_the_best_and_worst_samples() -> None:
    rng = np.random.default_rng(3)
    true = rng.normal(size=200).astype(np.float32)
    predicted = true + rng.normal(scale=0.3, size=200).astype(np.float32)
    predicted[17] += 5.0  # the worst by far
    predicted[4] = true[4]  # exact
    figures = regression_metrics(torch.tensor(predicted).reshape(-1, 1), torch.tensor(true))
    assert figures is not None
    assert figures.mae == pytest.approx(mean_absolute_error(true, predicted), rel=1e-6)
    assert figures.rmse == pytest.approx(np.sqrt(mean_squared_error(true, predicted)), rel=1e-6)
    assert figures.r2 == pytest.approx(r2_score(true, predicted), rel=1e-6)
    assert figures.worst[0] == 17 and figures.best[0] == 4 and len(figures.best) == len(figures.worst) == 5
    np.testing.assert_allclose(figures.residuals, predicted - true, atol=1e-6)
    assert figures.count == 200 and "R² " in figures.line()


def test_constant_targets_have_no_r2_and_an_empty_split_no_figures() -> None:
    figures = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    assert figures is not None and figures.r2 is None and figures.mae == pytest.approx(2 / 3)
    assert regression_metrics(np.zeros(0), np.zeros(0)) is None


def regression_csv(tmp_path, n: int = 400):
    """A table with three features and a numeric target around -10 (its last 100 rows are the test split)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
    y = (2 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] ** 2 - 10).astype(np.float32)
    path = tmp_path / "reg.csv"
    rows = "".join(f"{a:.6f},{b:.6f},{c:.6f},{t:.6f}\n" for (a, b, c), t in zip(x, y))
    path.write_text("a,b,c,target\n" + rows)
    return f"csv:{path}:target"


@pytest.mark.slow  # trains 30 epochs: about a second
def test_a_regression_run_reports_and_saves_its_test_figures(tmp_path) -> None:
    spec = regression_csv(tmp_path)
    project = mlp_project([3], 16, 1, loss="MSELoss", dataset=spec, lr=0.01, epochs=30, batch_size=32)
    data = load_dataset(spec, val_fraction=0.1)
    x_test, y_test = data.x_test, data.y_test.numpy()
    result = Trainer(project, out_dir=tmp_path / "runs", data=data).run()
    assert result.status == "finished", result.message
    assert result.test_accuracy is None and result.confusion == []
    figures = result.regression
    assert figures is not None and figures.count == len(y_test) > 20
    # the saved weights, predicted independently, give the same figures
    model = build_model(project, result.run_dir).module.eval()
    with torch.no_grad():
        predicted = model(x_test).reshape(-1).numpy()
    assert figures.mae == pytest.approx(mean_absolute_error(y_test, predicted), rel=1e-4)
    assert figures.rmse == pytest.approx(np.sqrt(mean_squared_error(y_test, predicted)), rel=1e-4)
    assert figures.r2 == pytest.approx(r2_score(y_test, predicted), rel=1e-4)
    assert figures.r2 > 0.5  # it learned something
    np.testing.assert_allclose(figures.true, y_test, rtol=1e-6)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["test_mae"] == pytest.approx(figures.mae) and summary["test_r2"] == pytest.approx(figures.r2)
    assert summary["worst_samples"] == figures.worst and summary["best_samples"] == figures.best
    table = np.loadtxt(result.run_dir / summary["predictions_file"], delimiter=",", skiprows=1)
    assert table.shape == (len(y_test), 5)  # sample, row (in reg.csv), true, predicted, residual
    np.testing.assert_allclose(table[:, 2], y_test, rtol=1e-6)
    np.testing.assert_allclose(table[:, 4], table[:, 3] - table[:, 2], atol=1e-5)
    np.testing.assert_allclose(table[:, 3], predicted, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["csv", "table"])
def test_each_prediction_names_its_row_in_the_user_s_file(tmp_path, kind) -> None:
    """The tester's F2: ``sample`` numbered the shuffled test split; ``row`` is the row of the user's file (the
    header is row 1; a blank line still counts), where that row's target is the ``true`` value."""
    path = tmp_path / "reg.csv"
    regression_csv(tmp_path)
    lines = path.read_text().splitlines()
    if kind == "csv":
        lines.insert(7, "")  # a blank line the csv: reader skips
    path.write_text("\n".join(lines) + "\n")
    spec = f"csv:{path}:target" if kind == "csv" else f"table:{path}?label=target"
    project = mlp_project([3], 8, 1, loss="MSELoss", dataset=spec, epochs=1, batch_size=64)
    result = Trainer(project, out_dir=tmp_path / "runs").run()
    assert result.status == "finished", result.message
    header, *rows = (result.run_dir / "test_predictions.csv").read_text().splitlines()
    assert header == "sample,row,true,predicted,residual"
    assert [int(r.split(",")[0]) for r in rows] == list(range(len(rows))) and len(rows) == 40
    file_rows = lines if kind == "csv" else [line for line in lines if line]
    for row in rows:
        _, number, true, *_ = row.split(",")
        target = float(file_rows[int(number) - 1].split(",")[3])  # row N of the file is lines[N - 1]
        assert float(true) == pytest.approx(target, abs=1e-5), row


def test_train_prints_the_regression_figures(tmp_path, capsys) -> None:
    project = mlp_project(
        [3], 16, 1, loss="MSELoss", dataset=regression_csv(tmp_path), lr=0.01, epochs=3, batch_size=32
    )
    save(project, tmp_path / "reg.json")
    assert main(["train", str(tmp_path / "reg.json"), "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    summary = json.loads(next((tmp_path / "runs").iterdir()).joinpath("summary.json").read_text())
    assert f"Test MAE {summary['test_mae']:.4f} - RMSE {summary['test_rmse']:.4f}" in out
