"""The updates an epoch are shown beside the batch size, and a small dataset with a big batch gets a note with a
batch size that gives enough (batch 128 on 240 images was two updates an epoch, without a word)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QUndoStack

from core.files.project import load
from gui.training.dashboard import TrainingDashboard
from gui.training.suggest import batch_for_steps, few_steps_advice, steps_per_epoch, steps_text

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_steps_and_the_advice_in_words() -> None:
    assert steps_per_epoch(240, 128) == 2 and steps_per_epoch(241, 8) == 31 and steps_per_epoch(0, 8) == 0
    assert steps_text(240, 128) == "2 steps an epoch" and steps_text(0, 128) == ""
    assert batch_for_steps(240) == 8 and batch_for_steps(19) is None
    text, better = few_steps_advice(240, 128)
    assert text.startswith("Batch 128 on 240 training samples is two updates an epoch") and better == 8
    assert "Batch 8 gives 30" in text
    assert few_steps_advice(60_000, 128) == ("", None)  # 469 steps: nothing to say
    assert few_steps_advice(10, 4) == ("", None)  # fewer samples than steps wanted: no batch size helps


def test_the_form_shows_the_steps_and_offers_a_batch_size_for_a_small_dataset(qtbot) -> None:
    stack = QUndoStack()
    project = load(EXAMPLES / "digits_mlp.json")
    project.training.batch_size = 512  # a project with a big batch for its 1,437 training images
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(project, stack)
    dash.refresh_dataset()
    panel = dash.panel
    n_train = dash.dataset.count("train")
    assert panel.steps.text() == f"{steps_per_epoch(n_train, 512)} steps an epoch"
    assert not panel.batch_note.isHidden() and "updates an epoch" in panel.batch_note.text()
    better = batch_for_steps(n_train)
    assert f"Use batch size {better}" in panel.batch_note.text()
    before = stack.count()
    panel.batch_note.linkActivated.emit(f"batch:{better}")  # the link in the note
    assert project.training.batch_size == better and panel.batch_size.value() == better
    assert stack.count() == before + 1 and panel.batch_note.isHidden()
    assert panel.steps.text() == f"{steps_per_epoch(n_train, better)} steps an epoch"
    stack.undo()
    assert project.training.batch_size == 512 and not panel.batch_note.isHidden()
    panel.batch_size.setValue(64)  # typed: enough steps, the note goes
    assert project.training.batch_size == 64 and panel.batch_note.isHidden()
