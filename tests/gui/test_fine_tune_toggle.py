"""The "Start from the imported network's weights" box: shown only for a project with initial weights (an
imported model's, a file beside the project); toggling it is one undoable edit of ``training.fine_tune``; and
``torchcanvas train --fine-tune/--from-scratch`` overrides the project's choice."""

from __future__ import annotations

import argparse

import pytest
import torch
from PySide6.QtGui import QUndoStack

from core.files.initial_weights import save_with_weights
from core.files.project import Project, load
from core.train_command import _override, _train_args
from gui.training.panel import TrainingPanel


def imported(tmp_path) -> tuple[Project, object]:
    """A project saved with initial weights, as an import leaves it (fine_tune on); no model is traced."""
    path = tmp_path / "imported.json"
    save_with_weights(Project(), {"w": torch.zeros(2)}, path)
    return load(path), path


def test_the_box_is_shown_and_toggling_it_is_one_undoable_edit(qtbot, tmp_path) -> None:
    project, path = imported(tmp_path)
    assert project.training.fine_tune
    panel, stack = TrainingPanel(), QUndoStack()
    qtbot.addWidget(panel)
    panel.set_project(project, stack, path)
    panel.show()
    assert panel.fine_tune.isVisible() and panel.fine_tune.isEnabled()
    assert panel.settings_form.isRowVisible(panel.fine_tune)
    assert panel.fine_tune.isChecked()

    panel.fine_tune.click()
    assert project.training.fine_tune is False
    assert stack.count() == 1
    stack.undo()
    assert project.training.fine_tune is True
    assert panel.fine_tune.isChecked()  # the form follows the undo
    stack.redo()
    assert project.training.fine_tune is False and not panel.fine_tune.isChecked()


def test_the_box_is_hidden_without_initial_weights(qtbot, tmp_path) -> None:
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_project(Project(), QUndoStack(), tmp_path / "plain.json")
    panel.show()
    assert not panel.fine_tune.isVisible()
    assert not panel.settings_form.isRowVisible(panel.fine_tune)
    project, path = imported(tmp_path)
    (tmp_path / "imported.initial.pt").unlink()  # the project names a weights file that is gone: nothing to start from
    panel.set_project(project, QUndoStack(), path)
    assert not panel.fine_tune.isVisible()


def test_the_dashboard_tells_the_panel_where_the_project_is(qtbot, tmp_path) -> None:
    from gui.shell.document import Document
    from gui.training.dashboard import TrainingDashboard

    _, path = imported(tmp_path)
    document = Document()
    document.open(path)
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_document(document)
    assert dash.panel.settings_form.isRowVisible(dash.panel.fine_tune)


@pytest.mark.parametrize(("flags", "expected"), [([], True), (["--from-scratch"], False), (["--fine-tune"], True)])
def test_train_command_fine_tune_options(flags, expected, tmp_path) -> None:
    project, _ = imported(tmp_path)
    parser = argparse.ArgumentParser()
    _train_args(parser)
    assert _override(project.training, parser.parse_args(["p.json", *flags])).fine_tune is expected
    project.training.fine_tune = False
    assert _override(project.training, parser.parse_args(["p.json", *flags])).fine_tune is (expected and bool(flags))


def test_train_command_options_exclude_each_other() -> None:
    parser = argparse.ArgumentParser()
    _train_args(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["p.json", "--fine-tune", "--from-scratch"])


def test_save_as_elsewhere_keeps_the_initial_weights(qtbot, tmp_path) -> None:
    """Save As into another folder took the project but left its weights behind: fine-tuning stayed on and the
    next run would have started from random weights without a word. Now the weights go along, the old file
    stays, and the panel looks for them beside the new file."""
    from core.files.initial_weights import initial_weights
    from gui.shell.document import Document
    from gui.training.dashboard import TrainingDashboard

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "net.json"
    save_with_weights(Project(), {"w": torch.arange(3.0)}, first)
    doc = Document()
    doc.open(first)
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_document(doc)
    moved = tmp_path / "b" / "copy.json"
    doc.save_as(moved)
    weights = initial_weights(load(moved), moved)
    assert weights is not None and weights.parent == moved.parent
    assert torch.equal(torch.load(weights)["w"], torch.arange(3.0))
    assert (tmp_path / "a" / "net.initial.pt").is_file()  # the old project keeps its own
    assert dash.panel.project_path == moved and dash.panel.has_initial_weights()


def test_save_as_never_overwrites_another_weights_file(tmp_path) -> None:
    from core.files.initial_weights import carry_initial_weights, initial_weights

    (tmp_path / "b").mkdir()
    first = tmp_path / "net.json"
    save_with_weights(Project(), {"w": torch.ones(2)}, first)
    project = load(first)
    (tmp_path / "b" / "net.initial.pt").write_bytes(b"someone else's file")
    target = carry_initial_weights(project, first, tmp_path / "b" / "mine.json")
    assert target == tmp_path / "b" / "mine.initial.pt"
    assert (tmp_path / "b" / "net.initial.pt").read_bytes() == b"someone else's file"
    assert initial_weights(project, tmp_path / "b" / "mine.json") == target
    same_stem = carry_initial_weights(load(first), first, tmp_path / "b" / "net.json")  # its own name is taken too
    assert same_stem == tmp_path / "b" / "net.initial-2.pt"
    assert (tmp_path / "b" / "net.initial.pt").read_bytes() == b"someone else's file"
    assert torch.equal(torch.load(same_stem)["w"], torch.ones(2))
