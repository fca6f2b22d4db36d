"""Regression results make sense (issue 26): before, a regression run showed "Test accuracy –", an empty
confusion-matrix area and, for two features, a "decision boundary" of its target values rounded into classes.
Now: predicted vs true with the diagonal, residuals, MAE/RMSE/R² in words, the worst and best samples."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from core.training.metrics import regression_metrics
from gui.training.results import ResultsView
from tests.gui.test_results_text import a_result


def a_run(features: int, n: int = 60, image: bool = False):
    rng = np.random.default_rng(1)
    true = rng.normal(-10, 3, size=n).astype(np.float32)  # negative targets: the old view drew classes -16..-4
    predicted = true + rng.normal(0, 0.5, size=n).astype(np.float32)
    predicted[7] += 6  # the worst
    figures = regression_metrics(torch.tensor(predicted), torch.tensor(true))
    result = SimpleNamespace(
        status="finished",
        message="",
        history=[{"epoch": 1, "loss": 1.0}],
        test_loss=0.4,
        test_accuracy=None,
        confusion=[],
        class_names=[],
        per_class_accuracy=[],
        misclassified=[],
        run_dir=None,
        summary={},
        device="cpu",
        regression=figures,
    )
    shape = (1, 8, 8) if image else (features,)
    dataset = SimpleNamespace(
        task="regression",
        x_test=torch.tensor(rng.uniform(size=(n, *shape)).astype(np.float32)),
        y_test=torch.tensor(true),
        sample_shape=shape,
        input_shape=shape,
        class_names=[],
        is_2d=features == 2 and not image,
        mean=None,
        std=None,
    )
    return result, dataset, figures


def shown(qtbot, result, dataset) -> ResultsView:
    view = ResultsView()
    qtbot.addWidget(view)
    view.resize(1300, 520)
    view.show()

    def predict(x: np.ndarray) -> np.ndarray:  # what the dashboard hands over: rounded "classes"
        return np.full(len(x), -10)

    with qtbot.waitSignal(view.filled, timeout=10_000):
        view.show_result(result, dataset, predict)
    return view


def test_a_2d_regression_shows_predicted_vs_true_not_a_decision_boundary(qtbot):
    result, dataset, figures = a_run(features=2)
    view = shown(qtbot, result, dataset)
    summary = view.summary.text()
    assert "accuracy" not in summary.lower()
    assert f"R² <b style='font-size:13pt'>{figures.r2:.3f}</b>" in summary and f"{figures.mae:.4g}" in summary
    # hidden, not empty: the confusion matrix, per-class bars and the decision boundary are not on screen
    for part in (view.confusion, view.per_class, view.boundary):
        assert not part.isVisible()
    page = view.regression
    assert page.isVisible() and page.scatter.isVisible() and page.residuals.isVisible()
    assert page.shown_points == 60 and view.boundary_classes.size == 0
    words = page.words.text()
    assert "off by" in words and f"{figures.rmse:.4g}" in words and "% of how the true values vary" in words
    lines = page.extreme_text.lines()
    assert lines[0].startswith("sample 7: predicted") and len(lines) == 10
    view.grab()  # paints


def test_image_regression_shows_the_worst_samples_as_pictures(qtbot):
    result, dataset, figures = a_run(features=0, image=True)
    view = shown(qtbot, result, dataset)
    page = view.regression
    assert page.extremes.currentWidget() is page.extreme_images
    captions = page.extreme_images.captions()
    assert captions[0] == f"{figures.predicted[7]:.4g}\n(true {figures.true[7]:.4g})"


def test_a_classification_run_after_a_regression_shows_its_matrix_again(qtbot):
    result, dataset, _ = a_run(features=3)
    view = shown(qtbot, result, dataset)
    classification = a_result([1, 2], 30)
    with qtbot.waitSignal(view.filled, timeout=10_000):
        view.show_result(classification, None, None)
    assert view.confusion.isVisible() and not view.regression.isVisible()
    assert "Test accuracy" in view.summary.text()
