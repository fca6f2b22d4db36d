"""Training settings announce their changes through the project (``Project.set_training`` ->
``training_changed``) and the document (its Qt ``training_changed``): the form, the dataset preview and the
analysis follow an edit, its undo and its redo, without listening to the undo stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack

from core.files.project import Project, load
from core.settings import TrainingSettings
from gui.commands.graph import set_param
from gui.commands.training import SetTrainingSettings
from gui.training.dashboard import TrainingDashboard
from gui.training.panel import TrainingPanel

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def changed(project: Project, **fields) -> TrainingSettings:
    return TrainingSettings.from_dict({**project.training.to_dict(), **fields})


def test_the_form_follows_the_project_not_the_undo_stack(qtbot) -> None:
    project, stack = Project(), QUndoStack()
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_project(project, stack)
    project.set_training(changed(project, epochs=9))  # no command, no stack move: the form follows anyway
    assert panel.epochs.value() == 9
    other = Project()
    panel.set_project(other, stack)
    project.set_training(changed(project, epochs=11))  # the project the form left no longer drives it
    assert panel.epochs.value() == other.training.epochs


@pytest.mark.slow
def test_undo_of_a_settings_edit_in_the_window(window, qtbot, tmp_path) -> None:
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    document, heard = window.document, []
    document.training_changed.connect(heard.append)
    old = document.project.training.epochs
    dash.panel.epochs.setValue(old + 3)
    assert document.project.training.epochs == old + 3 and len(heard) == 1
    document.undo_stack.undo()
    assert dash.panel.epochs.value() == old and len(heard) == 2 and heard[-1].epochs == old
    document.undo_stack.redo()
    assert dash.panel.epochs.value() == old + 3
    linear = document.graph.nodes_of_type("Linear")[0]
    document.undo_stack.push(set_param(document.graph, linear.id, "out_features", 17))
    document.undo_stack.undo()  # a graph edit and its undo are no settings change
    assert len(heard) == 3


@pytest.mark.slow
def test_undo_of_a_dataset_choice_reanalyses_the_network(window, qtbot) -> None:
    panel = window.install_training().panel
    document = window.document
    assert not document.analysis.errors
    document.undo_stack.push(SetTrainingSettings(document.project, {"dataset": "iris"}))  # 4 features, Input [1, 8, 8]
    qtbot.waitUntil(lambda: not panel.train_button.isEnabled(), timeout=30_000)
    assert document.analysis.errors
    document.undo_stack.undo()
    qtbot.waitUntil(panel.train_button.isEnabled, timeout=30_000)
    assert not document.analysis.errors


@pytest.mark.slow
@pytest.mark.parametrize("with_stack", [False, True])
def test_a_bare_dashboard_follows_its_settings(qtbot, tmp_path, with_stack) -> None:
    project = load(EXAMPLES / "digits_mlp.json")
    stack = QUndoStack() if with_stack else None
    dash = TrainingDashboard()
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project, stack)
    if stack is not None:
        stack.setParent(dash)
    dash.refresh_dataset()
    assert dash.panel.train_button.isEnabled()
    dash.panel.epochs.setValue(7)
    assert project.training.epochs == 7 and dash.panel.epochs.value() == 7
    project.set_training(changed(project, dataset="iris"))  # iris has 4 features; the Input takes [1, 8, 8]
    assert dash.panel.dataset.currentData() == "iris"
    assert not dash.panel.train_button.isEnabled() and "network" in dash.panel.blocked_reason()
    qtbot.waitUntil(lambda: dash.dataset is not None and dash.dataset.input_shape[-1] == 4, timeout=10_000)
    if stack is not None:
        stack.undo()  # the epochs edit (iris was set without the stack)
        assert project.training.epochs == dash.panel.epochs.value() == 20


def test_an_undo_clears_the_rejected_learning_rate_note(qtbot) -> None:
    """After a rejected learning rate, an undo shows the project's rate again (no red border); the red note that
    said the typed rate was wrong stayed beside the valid one."""
    project, stack = Project(), QUndoStack()
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_project(project, stack)
    panel.epochs.setValue(project.training.epochs + 1)
    panel.lr.setText("abc")
    panel.lr.editingFinished.emit()
    assert "learning rate" in panel.settings_note.text()
    stack.undo()
    assert panel.lr.text() == f"{project.training.lr:g}" and panel.lr.styleSheet() == ""
    assert panel.settings_note.text() == ""


def test_the_undo_text_of_a_settings_edit_is_in_words() -> None:
    """Edit > Undo read 'Undo Change training batch_size' (the field's code name)."""
    project = Project()
    assert SetTrainingSettings(project, {"batch_size": 64}).text() == "Change training batch size"
    assert SetTrainingSettings(project, {"lr": 0.01}).text() == "Change training learning rate"
    assert SetTrainingSettings(project, {"epochs": 3, "lr": 0.01}).text() == "Change training settings"
