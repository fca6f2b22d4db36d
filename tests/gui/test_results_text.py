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


class Words:
    """A vocabulary as the data core's tokenizer keeps it: ``decode(ids)`` gives the text back."""

    words = ("<pad>", "<unk>", "the", "film", "was", "great", "dull")

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.words[i] for i in ids if i)


def text_run(qtbot, vocabulary=None) -> ResultsView:
    """Token sequences (issue 26): the samples were drawn as black squares; now each is a line of its text."""
    x_test = np.array([[2, 3, 4, 5, 0, 0], [2, 3, 4, 6, 0, 0], [3, 4, 5, 0, 0, 0]], dtype=np.int64)
    labels = np.array([1, 0, 1])
    dataset = SimpleNamespace(
        x_test=x_test,
        y_test=labels,
        sample_shape=(6,),
        input_shape=(6,),
        class_names=["negative", "positive"],
        is_2d=False,
        mean=None,
        std=None,
        vocabulary=vocabulary,
    )
    result = a_result([1], 3)
    result.class_names, result.confusion, result.per_class_accuracy = ["negative", "positive"], [[0, 1], [0, 2]], [0, 1]
    view = ResultsView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.filled, timeout=10_000):
        view.show_result(result, dataset, lambda x: np.array([1, 1, 1][: len(x)]))  # sample 1 is wrong
    return view


def test_token_samples_are_lines_of_their_ids(qtbot):
    view = text_run(qtbot)
    assert view.sample_views.currentWidget() is view.sample_lines and view.samples.count() == 0
    lines = view.sample_lines.lines()
    assert lines[0] == "✗ positive (true: negative): tokens 2 3 4 6"  # the wrong one first, padding left out
    assert lines[1] == "✓ positive: tokens 2 3 4 5"
    assert "before each sample" in view.samples_title.text()


def test_token_samples_are_decoded_through_the_runs_vocabulary(qtbot):
    view = text_run(qtbot, Words())
    assert view.sample_lines.lines()[:2] == [
        "✗ positive (true: negative): the film was dull",
        "✓ positive: the film was great",
    ]
