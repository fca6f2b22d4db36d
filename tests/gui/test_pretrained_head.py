"""The inspector's New head: on an imported classifier's last layer, while the dataset has other classes, one click
sets out_features to the classes in one undo step (unfreezing a frozen head in the same step) and says what
changed."""

from __future__ import annotations

import pytest

from core.settings import TrainingSettings
from tests.conftest import EXAMPLES


def _resnet_on_digits(window):
    window.open_example(EXAMPLES / "resnet18.json")
    project = window.document.project
    project.set_training(TrainingSettings.from_dict({**project.training.to_dict(), "dataset": "digits"}))
    return window.document.graph


@pytest.mark.slow  # draws resnet18 on digits: about half a second
def test_new_head_on_the_last_linear_is_one_undo_step_with_a_note(window, qtbot):
    graph = _resnet_on_digits(window)
    fc = graph.by_name("fc")
    window.select_node(fc.id)
    button = window.inspector.head_button
    qtbot.waitUntil(lambda: button.isVisibleTo(window.inspector))
    assert button.text() == "New head for 10 classes"
    stack = window.document.undo_stack
    before = stack.count()
    button.click()
    assert fc.params["out_features"] == 10
    assert stack.count() == before + 1 and stack.undoText() == "New head: fc out_features 1000 → 10"
    note = window.inspector.head_note.text()
    assert note.startswith("New head: fc's out_features 1000 → 10 for the 10 classes of digits.")
    assert note in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not button.isVisibleTo(window.inspector))  # it fits now
    assert not any("scores per sample" in p.message for p in window.document.analysis.problems)
    stack.undo()
    assert fc.params["out_features"] == 1000


def test_the_button_shows_only_on_the_head(window, qtbot):
    graph = _resnet_on_digits(window)
    window.select_node(graph.by_name("conv1").id)
    assert window.inspector.head_button is not None and not window.inspector.head_button.isVisibleTo(window.inspector)


def test_a_frozen_head_is_unfrozen_in_the_same_step(window, qtbot):
    graph = _resnet_on_digits(window)
    fc = graph.by_name("fc")
    window.editor.freeze_before(graph.nodes_of_type("Output")[0].id)  # the whole network, fc too
    assert not fc.trainable
    stack = window.document.undo_stack
    before = stack.count()
    assert window.editor.fit_head() is not None
    assert fc.trainable and fc.params["out_features"] == 10 and stack.count() == before + 1
    stack.undo()
    assert not fc.trainable and fc.params["out_features"] == 1000
