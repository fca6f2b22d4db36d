"""``torchcanvas train`` prints layer-health diagnoses as it finds them (core.inspect.health)."""

from __future__ import annotations

import pytest

from core.cli import main
from core.files.project import save
from tests.core.test_health import deep_sigmoid_mlp
from tests.core.train_fixtures import mlp_project

pytestmark = pytest.mark.slow


def test_train_prints_vanishing_gradients_naming_the_node(tmp_path, capsys) -> None:
    path = tmp_path / "deep.json"
    save(deep_sigmoid_mlp(20), path)
    assert main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    health = [line for line in out.splitlines() if line.startswith("Health:")]
    assert len(health) == 1 and "fc1's gradients" in health[0] and "vanishing" in health[0]


def test_train_prints_the_nan_diagnosis_with_the_rate_and_the_optimizer(tmp_path, capsys) -> None:
    path = tmp_path / "nan.json"
    save(mlp_project([64], 32, 10, epochs=3, batch_size=32, lr=1e6, optimizer="SGD"), path)
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 1
    captured = capsys.readouterr()
    assert "loss became nan" in captured.err  # the trainer's own stop, as before
    nan = [line for line in captured.out.splitlines() if line.startswith("Health: The loss became NaN")]
    assert len(nan) == 1 and "at batch" in nan[0]
    assert "too high for SGD; try 0.01" in nan[0]


def test_no_health_prints_no_diagnosis(tmp_path, capsys) -> None:
    path = tmp_path / "deep.json"
    save(deep_sigmoid_mlp(20), path)
    assert main(["train", str(path), "--epochs", "1", "--no-health", "--out", str(tmp_path / "runs")]) == 0
    assert "Health:" not in capsys.readouterr().out


def test_train_prints_accuracy_at_chance_with_the_rate_to_try(tmp_path, capsys) -> None:
    path = tmp_path / "high.json"
    save(mlp_project([64], 32, 10, epochs=1, batch_size=32), path)
    args = ["train", str(path), "--optimizer", "sgd", "--lr", "10000", "--out", str(tmp_path / "runs")]
    assert main(args) == 0  # the loss never becomes NaN: the run finishes, and says why it learned nothing
    out = capsys.readouterr().out
    chance = [line for line in out.splitlines() if line.startswith("Health:") and "at chance" in line]
    assert len(chance) == 1 and chance[0].endswith("the learning rate 10000 is far too high for SGD; try 0.01.")
