"""Find LR: the range test runs in a thread, its curve is plotted on a log axis with the suggestion marked, and
one click sets the suggested rate as one undo step."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack

from core.files.project import load
from core.inspect.lr_find import LrCurve, suggest
from gui.inspect.lr_finder import LrFinderView
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def scripted_runner(threads: list):
    """Stands in for lr_find: a loss that falls fastest around 1e-3, then blows up past 1."""

    def run(project, *, on_point):
        threads.append(threading.current_thread())
        curve = LrCurve(optimizer=project.training.optimizer, current=project.training.lr)
        for k in range(60):
            rate = 1e-7 * 10 ** (k / 7)
            loss = 2.0 - 1.5 / (1 + math.exp(-4 * (math.log10(rate) + 3))) + (5.0 if rate > 1 else 0.0)
            curve.rates.append(rate)
            curve.raw.append(loss)
            curve.losses.append(loss)
            on_point(rate, loss)
        curve.stopped = "scripted"
        return suggest(curve)

    return run


def make(qtbot, runner):
    project = load(EXAMPLES / "digits_mlp.json")
    stack = QUndoStack()
    view = LrFinderView(lambda: (project, stack), runner=runner)
    qtbot.addWidget(view)
    return project, stack, view


def test_the_curve_is_plotted_with_the_suggestion_and_use_is_one_undo_step(qtbot) -> None:
    threads: list = []
    project, stack, view = make(qtbot, scripted_runner(threads))
    before = project.training.lr
    with qtbot.waitSignal(view.finished, timeout=10_000) as done:
        assert view.find_rate()
    curve = done.args[0]
    assert threads and threads[0] is not threading.main_thread()  # the test ran off the GUI thread
    assert 1e-4 < curve.suggestion < 1e-2
    xs, ys = view.line.getData()
    assert len(xs) == 60 and list(ys) == pytest.approx(curve.losses)
    assert view.plot.getPlotItem().ctrl.logXCheck.isChecked()  # the rate axis is logarithmic
    assert view.mark.isVisible() and view.mark.value() == pytest.approx(math.log10(curve.suggestion))
    assert view.use_button.isEnabled() and f"{curve.suggestion:.2g}" in view.use_button.text()
    view.use_button.click()
    assert project.training.lr == pytest.approx(float(f"{curve.suggestion:.2g}"))
    assert stack.count() == 1
    stack.undo()
    assert project.training.lr == before


def test_find_is_refused_while_a_run_trains_and_a_failure_is_said_in_words(qtbot) -> None:
    def broken(project, *, on_point):
        from core.inspect.nodes import InspectError

        raise InspectError("The network has problems to fix first: fc1 needs an input.")

    project, stack, view = make(qtbot, broken)
    view.set_training(True)
    assert not view.find_rate() and not view.find_button.isEnabled()
    view.set_training(False)
    with qtbot.waitSignal(view.finished, timeout=10_000) as done:
        view.find_rate()
    assert done.args[0] is None
    assert "fc1 needs an input" in view.status.text()
    assert not view.use_button.isEnabled()
    assert view.find_button.isEnabled()


@pytest.mark.slow
def test_the_dashboards_tab_runs_the_real_range_test(qtbot, tmp_path) -> None:
    project = load(EXAMPLES / "digits_mlp.json")
    dash = TrainingDashboard()
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    view = dash.lr_finder
    assert dash.tabs.indexOf(view) >= 0
    with qtbot.waitSignal(view.finished, timeout=120_000) as done:
        view.find_button.click()
    curve = done.args[0]
    assert curve is not None, view.status.text()
    assert 1e-6 < curve.suggestion < 1.0 and len(view.line.getData()[0]) == len(curve.rates)
    view.use_button.click()
    assert project.training.lr == pytest.approx(float(f"{curve.suggestion:.2g}"))


def test_a_test_that_blew_up_within_a_few_batches_suggests_nothing(qtbot) -> None:
    """F9: a curve of a few points suggested the lowest point's rate / 10 (1e-08 from 2 points), with Use enabled."""

    def blew_up(project, *, on_point):
        curve = LrCurve(optimizer=project.training.optimizer, current=project.training.lr)
        for k, loss in enumerate([2.3, 2.2, 9.5, 40.0]):
            curve.rates.append(1e-3 * 10**k)
            curve.raw.append(loss)
            curve.losses.append(loss)
            on_point(curve.rates[-1], loss)
        curve.stopped = "The loss passed 4x its lowest at the rate 1: stopped there."
        return suggest(curve)

    project, stack, view = make(qtbot, blew_up)
    with qtbot.waitSignal(view.finished, timeout=10_000):
        assert view.find_rate()
    assert "Too few points (4)" in view.status.text() and "lower start rate" in view.status.text()
    assert not view.use_button.isEnabled() and not view.mark.isVisible()
    view.apply()
    assert stack.count() == 0
