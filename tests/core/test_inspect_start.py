"""The looks inside before training start from the weights training starts from (core.inspect.start): Layer output
and the learning-rate range test of an imported trained network (trial 5 J7, J11), and a range test on a network
that cannot learn suggests no rate (J5)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.cli import main
from core.datasets import load_dataset
from core.files.initial_weights import save_with_weights
from core.files.project import Project, load, save
from core.fx_import import import_model
from core.inspect.activations import LayerOutputs
from core.inspect.lr_find import lr_find
from core.inspect.start import start_of
from core.model.graph import Graph
from core.settings import TrainingSettings


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))  # 64 values a sample, as Tiny takes them


@pytest.fixture(scope="module")
def trained(digits) -> Tiny:
    """Tiny trained on the digits (loss ~0.1): its outputs and its losses are nothing like random weights'."""
    torch.manual_seed(123)
    model = Tiny()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(digits.x_train), digits.y_train).backward()
        optimizer.step()
    return model.eval()


@pytest.fixture
def imported(trained, tmp_path):
    """`torchcanvas import tiny.py:Tiny --weights trained.pt`: the project, with its weights beside it."""
    result = import_model(trained, (64,), name="tiny")
    result.project.training.dataset = "digits"
    path = tmp_path / "tiny.json"
    save_with_weights(result.project, result.state, path)
    return load(path), path


def test_layer_output_of_an_imported_network_is_the_imported_weights_output(imported, trained, digits) -> None:
    """J7: it showed the outputs of random weights ("random weights (before training)") while training and every
    export start from the imported ones: 0.02 against 33 for the same sample."""
    project, path = imported
    views = LayerOutputs(project, project_path=path)
    assert views.start is not None and views.start.words() == "imported weights (tiny.initial.pt)"
    fc2 = next(n.id for n in project.graph.nodes if n.name == "fc2")
    sample = digits.x_test[3]
    with torch.no_grad():
        expected = trained(sample[None])[0]
    assert torch.allclose(views.output(sample, fc2).tensor, expected, atol=1e-5)
    # without the project's file (nothing to find beside it), or with fine-tuning off: the seed's random weights
    for where, fine_tune in ((None, True), (path, False)):
        project.training.fine_tune = fine_tune
        fresh = LayerOutputs(project, project_path=where)
        assert fresh.start is not None and fresh.start.words() == "random weights"
        assert not torch.allclose(fresh.output(sample, fc2).tensor, expected, atol=1e-2)


def test_an_initial_weights_file_is_the_start_too(trained, tmp_path, digits) -> None:
    """The initial weights setting (a file of earlier weights, loaded by name and shape) comes before the rest."""
    result = import_model(trained, (64,), name="tiny")
    weights = tmp_path / "earlier.pt"
    torch.save(result.state, weights)
    project = result.project
    project.training.initial_weights = str(weights)
    assert start_of(project, None).words() == "initial weights (earlier.pt)"
    fc2 = next(n.id for n in project.graph.nodes if n.name == "fc2")
    with torch.no_grad():
        expected = trained(digits.x_test[:1])[0]
    got = LayerOutputs(project).output(digits.x_test[0], fc2).tensor
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.slow  # two range tests of 20 batches, one through the command line
def test_lr_find_on_an_imported_trained_network_starts_from_its_weights(imported, digits, capsys) -> None:
    """J11: the range test trained random weights (first loss 2.29, chance for 10 classes) while training starts
    from the imported trained ones (loss ~0.1): a from-scratch rate for a fine-tuning run."""
    project, path = imported
    curve = lr_find(project, data=digits, steps=20, project_path=path)
    assert curve.raw[0] < 0.5, curve.raw[:3]  # the trained network's loss, not chance's 2.3
    assert curve.start == "imported weights (tiny.initial.pt)"
    assert "started from imported weights (tiny.initial.pt), as training does" in curve.message()
    assert main(["lr-find", str(path), "--steps", "20"]) == 0
    out = capsys.readouterr().out
    first = float(out.splitlines()[1].split()[1])  # the first point's smoothed loss
    assert first < 0.5 and "started from imported weights (tiny.initial.pt)" in out


def deep_sigmoid(layers: int) -> Project:
    """The tester's vanish.json: the digits through 12 Linear(64) + Sigmoid layers, SGD at 0.01."""
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=[64])]
    for i in range(layers):
        nodes += [graph.add("Linear", f"linear{i}", out_features=64), graph.add("Sigmoid", f"sigmoid{i}")]
    nodes += [graph.add("Linear", "head", out_features=10), graph.add("Output", "out")]
    graph.chain(nodes)
    settings = TrainingSettings(device="cpu", epochs=1, batch_size=32, optimizer="SGD", lr=0.01)
    return Project(graph, "Vanish", "", settings)


@pytest.mark.slow  # a range test of 100 batches through the command line
def test_lr_find_on_a_network_whose_loss_never_falls_suggests_no_rate(tmp_path, capsys) -> None:
    """J5: the loss stayed at 2.31-2.37 from 1e-7 to 10, and lr-find still suggested 0.0034 (steepest descent of
    the noise); training at it stayed at chance."""
    path = tmp_path / "vanish.json"
    save(deep_sigmoid(12), path)
    assert main(["lr-find", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Suggested learning rate" not in out
    assert "The loss did not fall at any rate from 1e-07 to" in out
    assert "the learning rate is not what stops this network" in out and "health diagnoses" in out
