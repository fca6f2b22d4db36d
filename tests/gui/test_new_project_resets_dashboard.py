"""A new or newly opened project starts with a clean training dashboard (issue 22): it went on showing the last
project's "Finished · test accuracy …", its curves, log, results and Try it."""

from __future__ import annotations

import functools

import pytest

from core.cli import EXAMPLES_DIR
from core.training import Trainer
from gui.training.panel_form import NOT_STARTED
from gui.training.results import IDLE_SUMMARY
from gui.training.tryit import HINT


@pytest.fixture
def trained(window, qtbot, tmp_path):
    """The example trained for one epoch in the window's dashboard."""
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    dash.trainer_factory = functools.partial(Trainer, event_interval=0)
    window.document.project.training.epochs = 1  # set up the test, not a user edit to undo
    dash.panel.refresh()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000):
        assert dash.start_training() is not None
    assert dash.panel.progress.format().startswith("Finished")
    assert dash.results.result is not None and dash.tryit.source is not None
    assert any(len(c.series) for c in dash.plots.curves)
    return dash


def assert_clean(dash) -> None:
    assert dash.panel.progress.format() == NOT_STARTED
    assert dash.panel.progress.value() == 0
    assert dash.panel.log.toPlainText() == ""
    assert all(len(c.series) == 0 for c in dash.plots.curves)
    assert dash.results.result is None and dash.results.summary.text() == IDLE_SUMMARY
    assert dash.tryit.source is None and dash.tryit.note.text() == HINT
    assert dash.last_result is None and dash.run_project is None  # File > Export no longer offers its weights


@pytest.mark.slow  # trains the example for an epoch: seconds
def test_file_new_clears_the_last_run(window, trained):
    window.document.undo_stack.setClean()
    window.new_project()
    assert len(window.document.graph) == 0
    assert_clean(trained)


@pytest.mark.slow  # trains the example for an epoch: seconds
def test_opening_another_project_clears_the_last_run(window, trained):
    assert window.open_example(EXAMPLES_DIR / "spirals.json")
    assert_clean(trained)


def test_file_new_starts_with_the_example_s_training_settings(window):
    """One set of defaults: File > New starts from ``TrainingSettings()``, as the CLI does, and those are the
    first-start example's epochs, batch size and validation share (they were 10 / 64 / 10 % against the
    example's 20 / 32 / 20 %)."""
    from core.settings import TrainingSettings

    example = window.document.project.training
    window.new_project()
    new = window.document.project.training
    assert new == TrainingSettings()
    assert (new.epochs, new.batch_size, new.val_fraction) == (example.epochs, example.batch_size, example.val_fraction)
