"""What the Results tab says about the test samples (issue 22): "24 wrong first" read as the number of errors
when 62 of the 2,000 test samples were wrong; it says "62 of 2,000 wrong; showing 24"."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gui.training.results import ResultsView

NAMES = ["circle", "square", "triangle"]


def a_result(wrong: list[int], total: int) -> SimpleNamespace:
    confusion = np.zeros((3, 3), dtype=int)
    labels = np.arange(total) % 3
    for i, label in enumerate(labels):
        confusion[label, (label + 1) % 3 if i in set(wrong) else label] += 1
    return SimpleNamespace(
        status="finished",
        message="",
        history=[],
        test_loss=0.3,
        test_accuracy=1 - len(wrong) / total,
        confusion=confusion.tolist(),
        class_names=NAMES,
        per_class_accuracy=[0.9, 0.95, 0.97],
        misclassified=wrong,
        run_dir=None,
        summary={},
        device="cpu",
    )


def shown(qtbot, wrong: list[int], total: int) -> ResultsView:
    labels = np.arange(total) % 3
    dataset = SimpleNamespace(
        x_test=np.zeros((total, 1, 8, 8), dtype=np.float32),
        y_test=labels,
        sample_shape=(1, 8, 8),
        input_shape=(1, 8, 8),
        class_names=NAMES,
        is_2d=False,
    )
    wrong_set = set(wrong)

    def predict(x: np.ndarray) -> np.ndarray:  # right except on ``wrong`` (found back by their order)
        return np.array(predict.answers[: len(x)])

    order = (wrong + [i for i in range(min(total, 96)) if i not in wrong_set])[:24]
    predict.answers = [(labels[i] + 1) % 3 if i in wrong_set else labels[i] for i in order]
    view = ResultsView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.filled, timeout=10_000):
        view.show_result(a_result(wrong, total), dataset, predict)
    return view


def test_the_title_counts_all_errors_and_how_many_are_shown(qtbot):
    view = shown(qtbot, list(range(0, 620, 10)), 2000)  # 62 wrong
    text = view.samples_title.text()
    assert "62 of 2,000 wrong" in text and "showing 24" in text
    assert "24 wrong" not in text
    assert sum("true:" in c for c in view.samples.captions()) == 24


def test_fewer_errors_than_pictures(qtbot):
    view = shown(qtbot, [4, 7, 9], 1500)
    text = view.samples_title.text()
    assert "3 of 1,500 wrong" in text and "showing 3" in text


def test_no_errors(qtbot):
    view = shown(qtbot, [], 1200)
    text = view.samples_title.text()
    assert "all 1,200 right" in text and "wrong" not in text
