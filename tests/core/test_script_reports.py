"""What the exported script tells the user who runs it on their own: a regression is judged as the app judges it
(MAE, RMSE and R², never an accuracy of 0.0: tester's F1), and the files it writes are named with their folder
(F21: they land in the folder it runs in, which need not be the script's)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.code.script import generate_script
from core.training.trainer import Trainer
from tests.core.test_metrics import regression_csv
from tests.core.train_fixtures import example, mlp_project

pytestmark = pytest.mark.slow  # each test trains an exported script in a child process: seconds


def _run(source: str, folder) -> str:
    folder.mkdir()
    (folder / "train.py").write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, env=env, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_regression_script_prints_the_apps_figures_and_no_accuracy(tmp_path) -> None:
    project = mlp_project([3], 16, 1, loss="MSELoss", dataset=regression_csv(tmp_path), lr=0.01, epochs=3)
    out = _run(generate_script(project).source, tmp_path / "run")
    app = Trainer(project, save=False).run()
    assert app.status == "finished" and app.regression is not None, app.message
    assert "accuracy" not in out, out
    assert f"Test loss: {app.test_loss:.4f}\n{app.regression.line()}\n" in out, out


def test_a_class_loss_on_a_table_still_prints_its_accuracy(tmp_path) -> None:
    """MSE on class labels (one-hot targets) is no regression: the accuracy stays."""
    from tests.core.train_fixtures import write_csv

    spec = f"csv:{write_csv(tmp_path / 'table.csv', rows=60)}:species"
    project = mlp_project([3], 16, 3, loss="MSELoss", dataset=spec, epochs=1, batch_size=16)
    out = _run(generate_script(project).source, tmp_path / "run")
    assert "'val_accuracy'" in out and "test accuracy" in out and "MAE" not in out, out


def test_the_script_says_where_it_saved_its_files(tmp_path) -> None:
    out = _run(generate_script(example("digits_mlp", epochs=1)).source, tmp_path / "run")
    folder = tmp_path / "run"
    assert (folder / "model_weights.pt").is_file() and (folder / "history.json").is_file()
    assert f"Saved model_weights.pt and history.json in {folder}\n" in out, out
