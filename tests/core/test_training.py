"""Every loss x optimizer x scheduler trains a tiny model; the network is checked against the data first."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from core.code.script import generate_script
from core.datasets import Dataset, load_dataset
from core.settings import LOSSES, OPTIMIZERS, SCHEDULERS
from core.training import Trainer
from core.training.setup import exec_source
from tests.core.train_fixtures import mlp_project


@pytest.fixture(scope="module")
def iris() -> Dataset:
    return load_dataset("iris", input_shape=(4,), val_fraction=0.2)


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "optimizer", "scheduler"), list(itertools.product(LOSSES, OPTIMIZERS, SCHEDULERS)))
def test_every_combination_trains(iris: Dataset, loss: str, optimizer: str, scheduler: str) -> None:
    extra = {"momentum": 0.9, "nesterov": True} if optimizer == "SGD" else {}
    project = mlp_project(
        [4],
        8,
        3,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        lr=0.01,
        epochs=2,
        batch_size=32,
        weight_decay=1e-4,
        step_size=1,
        **extra,
    )
    result = Trainer(project, data=iris, save=False).run()
    assert result.status == "finished", result.message
    assert [row["epoch"] for row in result.history] == [1, 2]
    losses = [row["loss"] for row in result.history]
    assert all(math.isfinite(v) for v in losses) and losses[0] != losses[1]
    assert 0.0 <= result.test_accuracy <= 1.0
    assert len(result.confusion) == 3 and sum(map(sum, result.confusion)) == iris.count("test")
    if scheduler == "StepLR":
        assert result.history[1]["lr"] == pytest.approx(result.history[0]["lr"] * 0.1)


def test_binary_single_logit_with_bce(tmp_path) -> None:
    data = load_dataset("breast_cancer", input_shape=(30,))
    project = mlp_project([30], 16, 1, loss="BCEWithLogitsLoss", lr=0.01, epochs=3)
    result = Trainer(project, data=data, save=False).run()
    assert result.status == "finished", result.message
    assert result.test_accuracy > 0.85


def test_regression_from_csv(tmp_path) -> None:
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{i / 50:.3f},{2 * i / 50 + 1:.3f}\n" for i in range(100)))
    project = mlp_project([1], 8, 1, loss="MSELoss", dataset=f"csv:{path}:y", lr=0.01, epochs=20, batch_size=16)
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    assert result.history[-1]["accuracy"] is None and result.test_accuracy is None
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_optimizer_options_reach_torch() -> None:
    project = mlp_project([4], 8, 3, optimizer="SGD", momentum=0.9, nesterov=True, weight_decay=0.01)
    script, _ = exec_source(generate_script(project).source)
    opt = script["make_optimizer"](torch.nn.Linear(2, 2))
    group = opt.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.9, True, 0.01)


def test_gradient_clipping_and_early_stopping(iris: Dataset) -> None:
    project = mlp_project([4], 8, 3, lr=1e-6, epochs=50, grad_clip=0.5, early_stopping=2, monitor="val_accuracy")
    events = []
    result = Trainer(project, data=iris, save=False, on_event=events.append).run()
    assert result.status == "finished"
    assert len(result.history) < 50 and "Early stopping" in result.message
    assert any("Early stopping" in e.message for e in events if e.kind == "notice")


def test_augmentation_runs_on_images() -> None:
    data = load_dataset("digits")
    project = mlp_project([1, 8, 8], 16, 10, epochs=1, augment_flip=True, augment_rotation=10.0, augment_shift=1)
    assert Trainer(project, data=data, save=False).run().status == "finished"


def test_output_that_does_not_fit_the_classes_is_refused(iris: Dataset) -> None:
    result = Trainer(mlp_project([4], 8, 2), data=iris, save=False).run()
    assert result.status == "failed"
    assert "outputs 2 values per sample but Iris (scikit-learn) has 3 classes" in result.message
    assert "out_features to 3" in result.message
    mse = Trainer(mlp_project([4], 8, 5, loss="MSELoss"), data=iris, save=False).run()
    assert mse.status == "failed" and "one output per class (3)" in mse.message


def test_invalid_network_is_reported_not_raised(iris: Dataset) -> None:
    project = mlp_project([4], 8, 3)
    fc2 = project.graph.by_name("fc2")
    project.graph.disconnect(project.graph.inputs_of(fc2.id)[0])
    result = Trainer(project, data=iris, save=False).run()
    assert result.status == "failed" and "problems to fix before" in result.message


def test_metrics_and_evaluation_results(iris: Dataset) -> None:
    result = Trainer(mlp_project([4], 16, 3, lr=0.05, epochs=15), data=iris, save=False).run()
    assert result.status == "finished"
    n_test = iris.count("test")
    wrong = sum(result.confusion[i][j] for i in range(3) for j in range(3) if i != j)
    assert len(result.misclassified) == wrong
    assert result.test_accuracy == pytest.approx(1 - wrong / n_test)
    assert all(0 <= i < n_test for i in result.misclassified)
    assert len(result.per_class_accuracy) == 3 and result.class_names == ["setosa", "versicolor", "virginica"]
    summary = result.summary
    for key in ("epochs", "train_samples", "train_seconds", "samples_per_second", "train_loss", "val_loss"):
        assert summary[key] is not None
    assert summary["epochs"] == 15 and summary["train_samples"] == iris.count("train")
