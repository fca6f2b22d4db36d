"""The data fits a pretrained network when the dataset is chosen (issue 27): the Input stays as the weights fix it
(3x224x224), and the same undo step as the dataset resizes the images to it (grey repeated in its 3 channels) and
normalises them with the weights' own mean and std, so the check passes with no Input edit."""

from __future__ import annotations

import pytest

from core.settings import TrainingSettings
from tests.conftest import EXAMPLES

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def _project(window, tmp_path, weights: str):
    window.open_example(EXAMPLES / "resnet18.json")
    project = window.document.project
    values = {**project.training.to_dict(), "initial_weights": str(tmp_path / weights) if weights else ""}
    project.set_training(TrainingSettings.from_dict(values))
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    return dash, window.document.graph


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_choosing_grey_digits_for_a_pretrained_network_fits_the_data_in_one_undo_step(window, tmp_path):
    dash, graph = _project(window, tmp_path, "resnet18-f37072fd.pth")  # torchvision's file name; never read here
    node = graph.nodes_of_type("Input")[0]
    stack = window.document.undo_stack
    before = stack.count()
    dash.choose_dataset("digits")
    training = window.document.project.training
    assert node.params["shape"] == [3, 224, 224]  # before: [1, 8, 8], which the pretrained conv1 cannot take
    assert training.resize == [224, 224] and (training.mean, training.std) == IMAGENET
    assert stack.count() == before + 1 and stack.undoText() == "Use dataset digits"
    note = dash.panel.settings_note.text()
    assert "images resized to 224x224 for the network" in note and "weights' own mean and std" in note
    errors = [p.message for p in window.document.analysis.problems if p.severity == "error"]
    assert errors == []
    stack.undo()
    training = window.document.project.training
    assert training.resize == [] and training.mean == [] and training.dataset == "folder:imagenet/train"


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_network_without_starting_weights_takes_the_datas_shape(window, tmp_path):
    dash, graph = _project(window, tmp_path, "")
    dash.choose_dataset("digits")
    assert graph.nodes_of_type("Input")[0].params["shape"] == [1, 8, 8]
    assert window.document.project.training.resize == []


def test_the_check_words_and_one_click_fit_a_pretrained_project_whose_data_was_set_before(window, tmp_path):
    """A project already on digits (set in the file, or before the weights): the Data box says the check's words
    and its link fits the data in one undo step."""
    dash, graph = _project(window, tmp_path, "resnet18-f37072fd.pth")
    project = window.document.project
    project.set_training(TrainingSettings.from_dict({**project.training.to_dict(), "dataset": "digits"}))
    note = dash.panel.fit_note
    words = "This network expects 3x224x224 images; your images (digits) are 1x8x8: resize to 224x224 and convert"
    assert words in note.text() and not note.isHidden()
    assert any(words in p.message for p in window.document.analysis.problems if p.severity == "error")
    stack = window.document.undo_stack
    before = stack.count()
    note.linkActivated.emit("fit:")
    training = window.document.project.training
    assert training.resize == [224, 224] and (training.mean, training.std) == IMAGENET
    assert stack.count() == before + 1 and stack.undoText() == "Fit the data to the network"
    assert note.isHidden() and not [p for p in window.document.analysis.problems if p.severity == "error"]
    stack.undo()
    assert window.document.project.training.resize == [] and not note.isHidden()
