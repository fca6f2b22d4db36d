"""Augmentation in the window: flip, rotation and shift existed in the project file and the exported script but
not in the form. Each field is one undoable edit, and the grid shows samples drawn through the training loop's own
``augment``. Crop and colour jitter (issue 26) joined them, in the file, the script and the form at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from core.files.project import load
from core.portable import steps
from gui.data.augment import augmented
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def dashboard(qtbot, example: str = "digits_mlp.json") -> tuple[TrainingDashboard, QUndoStack]:
    stack = QUndoStack()
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(load(EXAMPLES / example), stack)
    dash.refresh_dataset()
    return dash, stack


def test_each_augmentation_field_is_one_undoable_edit_and_the_grid_follows(qtbot, monkeypatch) -> None:
    calls: list[tuple] = []
    real = steps.augment

    def spy(images, flip, degrees, shift, crop=0.0, jitter=0.0):
        calls.append((tuple(images.shape), flip, degrees, shift, crop, jitter))
        return real(images, flip, degrees, shift, crop, jitter)

    monkeypatch.setattr(steps, "augment", spy)  # the training loop's function draws the grid
    dash, stack = dashboard(qtbot)
    box, training = dash.panel.augment, lambda: dash.project.training
    assert box.shown_images() == 0 and "Turn on a transform" in box.note.text()
    box.flip.setChecked(True)  # the user ticks Flip
    assert training().augment_flip is True and stack.count() == 1
    assert stack.undoText() == "Change training augment flip"
    box.rotation.setValue(30)
    assert training().augment_rotation == 30.0 and stack.count() == 2
    box.shift.setValue(2)
    assert training().augment_shift == 2 and stack.count() == 3
    assert box.shown_images() == 8
    assert calls[-1] == ((8, 1, 8, 8), True, 30.0, 2, 0.0, 0.0)
    stack.undo()
    assert training().augment_shift == 0 and box.shift.value() == 0
    stack.undo()
    stack.undo()
    assert not training().augment_flip and box.rotation.value() == 0 and not box.flip.isChecked()
    assert box.shown_images() == 0


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_crop_and_jitter_are_one_undoable_edit_each_and_the_grid_follows(qtbot, monkeypatch) -> None:
    """Issue 26: crop and colour jitter in the box, in percent on screen and fractions in the settings."""
    calls: list[tuple] = []
    real = steps.augment

    def spy(images, flip, degrees, shift, crop=0.0, jitter=0.0):
        calls.append((flip, degrees, shift, crop, jitter))
        return real(images, flip, degrees, shift, crop, jitter)

    monkeypatch.setattr(steps, "augment", spy)
    dash, stack = dashboard(qtbot)
    box, training = dash.panel.augment, lambda: dash.project.training
    box.crop.setValue(20)  # the user asks for crops of 80-100% of the area
    assert training().augment_crop == 0.2 and stack.count() == 1
    assert stack.undoText() == "Change training augment crop"
    assert box.shown_images() == 8 and calls[-1] == (False, 0.0, 0, 0.2, 0.0)
    before = box.grid.item(0).icon().pixmap(28).toImage()
    box.jitter.setValue(40)
    assert training().augment_jitter == 0.4 and stack.count() == 2
    assert calls[-1] == (False, 0.0, 0, 0.2, 0.4)
    assert box.grid.item(0).icon().pixmap(28).toImage() != before  # the grid follows the new field
    stack.undo()
    assert training().augment_jitter == 0.0 and box.jitter.value() == 0 and calls[-1][-1] == 0.0
    stack.undo()
    assert training().augment_crop == 0.0 and box.crop.value() == 0 and box.shown_images() == 0
    stack.redo()
    assert box.crop.value() == 20 and box.shown_images() == 8


def test_crop_and_jitter_change_the_preview_samples(qtbot) -> None:
    dash, _stack = dashboard(qtbot)
    data = dash.dataset
    plain = augmented(data, False, 0.0, 0, seed=0)
    cropped = augmented(data, False, 0.0, 0, seed=0, crop=0.5)
    jittered = augmented(data, False, 0.0, 0, seed=0, jitter=0.5)
    assert cropped.shape == jittered.shape == plain.shape
    assert not np.allclose(plain, cropped, atol=1e-3) and not np.allclose(plain, jittered, atol=1e-3)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_the_grid_shows_changed_samples_and_a_new_draw_on_request(qtbot) -> None:
    dash, _stack = dashboard(qtbot)
    data = dash.dataset
    plain = augmented(data, False, 0.0, 0, seed=0)
    turned = augmented(data, False, 45.0, 0, seed=0)
    assert plain.shape == turned.shape == (8, 1, 8, 8)
    np.testing.assert_allclose(plain, data.preview(k=8).samples, atol=1e-4)  # nothing on: the samples as loaded
    assert not np.allclose(plain, turned, atol=1e-3)
    np.testing.assert_array_equal(turned, augmented(data, False, 45.0, 0, seed=0))  # one draw, shown again
    box = dash.panel.augment
    box.rotation.setValue(45)
    first = [box.grid.item(i).icon().pixmap(28).toImage() for i in range(box.grid.count())]
    box.again.click()
    second = [box.grid.item(i).icon().pixmap(28).toImage() for i in range(box.grid.count())]
    assert len(first) == len(second) == 8 and first != second


def test_augmentation_is_off_for_data_that_are_not_images(qtbot) -> None:
    dash, _stack = dashboard(qtbot, "spirals.json")
    box = dash.panel.augment
    assert not box.flip.isEnabled() and "not images" in box.note.text()
