"""Review 6, S6: a regression project's scripts were a classifier's. On a table with a number label (MSELoss) the
exported ``train_one_epoch`` counted ``correct`` with ``classes_of`` (a 0.5 threshold on a price), history.json held
``"accuracy": 0.0`` every epoch (the notebook plotted it), ``regression = y_train.is_floating_point()`` was decided
at run time though the project knows its task, the test's ``else: print(... test accuracy ...)`` never ran, and the
Keras script compiled ``BinaryAccuracy`` (it printed "test accuracy 0.0000"). Now a regression's scripts carry only
regression lines: the loss each epoch, MAE/RMSE/R² for the test split, Keras ``metrics=["mae"]``; the app runs the
same ``train_one_epoch`` and ``evaluate`` and its per-epoch losses stay the script's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.code.keras_script import generate_keras_script
from core.code.notebook import steps
from core.code.script import generate_script
from core.files.project import Project
from core.training import Trainer
from tests.core.test_table_script import _houses, _project
from tests.core.train_fixtures import example

ACCURACY_WORDS = ("accuracy", "correct", "classes_of", "to_target", "kept")


def _regression(tmp_path: Path, **training: object) -> Project:
    """rooms, area, age and city one-hot: 6 features, the price to predict."""
    return _project(_houses(tmp_path / "prices.csv"), "?label=price&ignore=kind", 1, loss="MSELoss", **training)


def _words(source: str) -> list[str]:
    return [word for word in ACCURACY_WORDS if re.search(rf"\b{word}\b", source)]


@pytest.mark.parametrize(
    "training",
    [{}, {"distributed": True}, {"early_stopping": 2, "scheduler": "ReduceLROnPlateau"}, {"device": "auto"}],
    ids=["plain", "distributed", "stops", "amp"],
)
def test_a_regression_script_has_no_accuracy_lines(tmp_path: Path, training: dict[str, object]) -> None:
    """Fails before: correct, classes_of, to_target, "accuracy" and the run-time ``regression`` test were there."""
    source = generate_script(_regression(tmp_path, **training)).source
    assert _words(source) == []
    assert "is_floating_point" not in source.split("def main")[1]  # the task is known when the script is written
    assert "loss = loss_fn(outputs, labels.view_as(outputs))" in source
    assert "print(regression_figures(model, x_test, y_test, EVAL_BATCH_SIZE))" in source
    assert 'metrics["val_loss"] = evaluate(model, x_val, y_val, loss_fn, EVAL_BATCH_SIZE)' in source
    assert "test_loss = evaluate(model, x_test, y_test, loss_fn, EVAL_BATCH_SIZE)" in source


def test_a_distributed_regression_adds_up_two_sums(tmp_path: Path) -> None:
    source = generate_script(_regression(tmp_path, distributed=True)).source
    assert "return total_loss, seen\n" in source
    assert "total_loss, seen = train_one_epoch(" in source
    assert "sums = torch.tensor([total_loss, seen], dtype=torch.float64)" in source
    assert 'metrics = {"loss": total_loss / seen}' in source


def test_mse_on_class_labels_is_still_a_classifier() -> None:
    """One-hot rows under MSELoss (the digits set has classes): accuracy stays, decided when the script is written."""
    source = generate_script(example("digits_mlp", loss="MSELoss")).source
    assert "to_target(outputs, labels, LOSS)" in source and '"accuracy": int(correct) / seen' in source
    assert "test accuracy" in source
    assert "is_floating_point" not in source.split("def main")[1] and "kept" not in source
    assert "regression_figures" not in source


def test_the_keras_regression_measures_mae(tmp_path: Path) -> None:
    """Fails before: ``keras.metrics.BinaryAccuracy(threshold=0.5, name="accuracy")`` and "test accuracy"."""
    source = generate_keras_script(_regression(tmp_path))
    assert 'metrics=["mae"],' in source
    assert "accuracy" not in source and "Accuracy" not in source
    assert "test_loss, test_mae = model.evaluate(" in source and '"test_mae": test_mae,' in source
    assert "def targets(" not in source  # Keras compares a number with the one output itself
    classifier = generate_keras_script(example("digits_mlp", loss="MSELoss"))
    assert 'BinaryAccuracy(threshold=0.5, name="accuracy")' in classifier and "def targets(" in classifier


def test_the_regression_notebook_has_no_accuracy(tmp_path: Path) -> None:
    """The notebook is cut from the script: its cells but the curves' (which plots what history holds) say none."""
    cells = steps(_regression(tmp_path))
    code = "\n".join(part for step in cells if step.title != "Curves" for part in step.code)
    assert _words(code) == []
    assert "regression_figures(model, x_test, y_test, EVAL_BATCH_SIZE)" in code
    curves = next(step for step in cells if step.title == "Curves")
    assert curves.text.startswith("The loss of every epoch"), curves.text  # it said "loss and accuracy"


def _run(folder: Path, name: str, source: str, *command: str) -> str:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*(command or (sys.executable,)), name], cwd=folder, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow  # trains in subprocesses
def test_the_regression_script_trains_as_the_app_does_without_accuracy(tmp_path: Path) -> None:
    project = _regression(tmp_path, epochs=3, lr=0.01)
    output = _run(tmp_path / "run", "train.py", generate_script(project).source)
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    script = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [sorted(row) for row in script] == [["epoch", "loss", "lr", "val_loss"]] * 3
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(mine[key] - theirs[key]) <= 1e-6, (key, mine[key], theirs[key])
    assert "accuracy" not in output
    figures = re.search(r"Test MAE ([\d.]+) - RMSE ([\d.]+) - R² (-?[\d.]+)", output)
    assert figures is not None and app.regression is not None, output
    assert float(figures[1]) == pytest.approx(app.regression.mae, abs=1e-3)
    assert float(figures[2]) == pytest.approx(app.regression.rmse, abs=1e-3)


@pytest.mark.slow  # two processes under torchrun
def test_the_distributed_regression_trains_like_one_process(tmp_path: Path) -> None:
    project = _regression(tmp_path, epochs=2, distributed=True, batch_size=16)
    torchrun = Path(sys.executable).with_name("torchrun")
    launcher = [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    output = _run(
        tmp_path / "job", "train.py", generate_script(project).source, *launcher, "--standalone", "--nproc_per_node=2"
    )
    assert "accuracy" not in output and "Test MAE" in output
    script = json.loads((tmp_path / "job" / "history.json").read_text())
    app = Trainer(project, save=False).run()
    for mine, theirs in zip(app.history, script, strict=True):
        assert sorted(theirs) == ["epoch", "loss", "lr", "val_loss"]
        for key in ("loss", "val_loss"):  # the same batches, halves on two processes (tests/core/test_distributed.py)
            assert theirs[key] == pytest.approx(mine[key], rel=1e-4), key


@pytest.mark.slow  # Keras trains in a subprocess
def test_the_keras_regression_reports_mae(tmp_path: Path) -> None:
    from core.training.keras_compare import read_result

    output = _run(tmp_path / "keras", "train_keras.py", generate_keras_script(_regression(tmp_path, epochs=2)))
    assert "accuracy" not in output and re.search(r"test MAE \d+\.\d{4}, test loss", output), output
    result = json.loads((tmp_path / "keras" / "keras_history.json").read_text())
    assert sorted(result["history"]) == ["loss", "mae", "val_loss", "val_mae"]
    assert read_result(tmp_path / "keras").test_accuracy is None  # the app's comparison table shows "–"


def _ruff_clean(folder: Path) -> None:
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(folder)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_export_of_a_regression_passes_ruff(tmp_path: Path) -> None:
    from core.code.notebook import notebook_text

    out = tmp_path / "exports"
    out.mkdir()
    for i, training in enumerate([{}, {"distributed": True}, {"early_stopping": 2, "scheduler": "ReduceLROnPlateau"}]):
        project = _regression(tmp_path, **training)
        (out / f"train{i}.py").write_text(generate_script(project).source)
        (out / f"keras{i}.py").write_text(generate_keras_script(project))
        (out / f"notebook{i}.ipynb").write_text(notebook_text(project))
    _ruff_clean(out)


def test_a_folder_is_classes_even_where_it_cannot_be_looked_at() -> None:
    """resnet18's imagenet/train with MSELoss was taken for a regression: its streamed script then had two
    ``evaluate`` functions (ruff F811), and its labels are class sub-folders whatever the loss."""
    from core.code.script_loop import regresses
    from core.settings import TrainingSettings

    assert not regresses(TrainingSettings(dataset="folder:no/such/folder", loss="MSELoss"))
    assert regresses(TrainingSettings(dataset="csv:no/such/file.csv:price", loss="MSELoss"))
