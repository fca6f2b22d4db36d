"""A new head when the dataset is chosen: a pretrained classifier (a project that starts from given weights) whose
last Linear scores another number of classes than the chosen dataset has gets that Linear refitted in the same undo
step as the dataset, and the settings note says what changed (Keras' include_top=False plus a new Dense)."""

from __future__ import annotations

import pytest

from core.settings import TrainingSettings
from tests.conftest import EXAMPLES


def _pretrained_resnet(window, tmp_path):
    window.open_example(EXAMPLES / "resnet18.json")
    project = window.document.project
    weights = str(tmp_path / "resnet18-f37072fd.pth")  # what New from Pretrained Network sets; never read here
    project.set_training(TrainingSettings.from_dict({**project.training.to_dict(), "initial_weights": weights}))
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    return dash, window.document.graph


def test_choosing_a_dataset_gives_a_pretrained_classifier_a_new_head_in_the_same_undo_step(window, tmp_path):
    dash, graph = _pretrained_resnet(window, tmp_path)
    fc = graph.by_name("fc")
    stack = window.document.undo_stack
    before = stack.count()
    dash.choose_dataset("digits")
    assert window.document.project.training.dataset == "digits"
    assert fc.params["out_features"] == 10
    assert stack.count() == before + 1 and stack.undoText() == "Use dataset digits"
    note = dash.panel.settings_note.text()
    assert "New head: fc's out_features 1000 → 10 for the 10 classes of digits." in note
    assert not any("scores per sample" in p.message for p in window.document.analysis.problems)
    stack.undo()  # one step takes back the dataset and the head together
    assert fc.params["out_features"] == 1000 and window.document.project.training.dataset == "folder:imagenet/train"
    stack.redo()
    assert fc.params["out_features"] == 10


@pytest.mark.slow  # draws resnet18 (70 layers): about a second
def test_a_network_without_given_weights_keeps_its_last_layer(window, tmp_path):
    window.open_example(EXAMPLES / "resnet18.json")  # drawn, not pretrained: out_features is the user's choice
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    fc = window.document.graph.by_name("fc")
    dash.choose_dataset("digits")
    assert fc.params["out_features"] == 1000 and "New head" not in dash.panel.settings_note.text()


@pytest.mark.slow  # draws resnet18 (70 layers): about a second
def test_a_head_that_already_fits_is_left_alone(window, tmp_path):
    dash, graph = _pretrained_resnet(window, tmp_path)
    fc = graph.by_name("fc")
    fc.params["out_features"] = 10
    dash.choose_dataset("digits")
    assert fc.params["out_features"] == 10 and "New head" not in dash.panel.settings_note.text()
