"""Trial 5 J9: a Linear of 3.25 billion parameters passed ``torchcanvas check`` with "OK", and ``train`` then ground
a 23 GB computer for minutes. Check and the check before a run now estimate what training holds (weights,
gradients, the optimizer's state, the trainer's copy of the good weights, a batch's outputs) from the shapes, never
from tensors, and refuse a run above the device's free memory (warn above half of it), naming the layer and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.cli import main
from core.files.project import Project, save
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.memory import training_need
from core.settings import TrainingSettings
from core.training.machine_memory import Memory, computer_memory, device_memory
from core.training.precheck import check_before_training, memory_problems
from tests.core.train_fixtures import example, mlp_project

GB = 1000**3


def _machine(free_gb: float, total_gb: float = 23) -> object:
    return lambda device: Memory("this computer", int(total_gb * GB), int(free_gb * GB))


def _problems(project, machine) -> tuple[list[str], list[str]]:
    return memory_problems(project, analyze(project.graph, project.training), machine)


@pytest.fixture
def no_layer_is_built(monkeypatch):
    """The estimate reads shapes: building the 3-billion-parameter Linear would take minutes and 13 GB."""

    def refuse(*args, **kwargs):
        raise AssertionError("the memory check built a layer")

    monkeypatch.setattr(torch.nn.Linear, "__init__", refuse)


def test_check_refuses_a_linear_too_big_for_any_computer(tmp_path: Path, capsys, no_layer_is_built) -> None:
    path = tmp_path / "big.json"  # digits_mlp with fc1 of 2,000,000,000 features: 130 billion parameters
    save(mlp_project([1, 8, 8], 2_000_000_000, 10, dataset="digits", batch_size=32), path)
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and "OK: the network is valid." not in out
    assert "fc1 alone holds 130,000,000,000 parameters (520 GB)" in err
    assert "training needs about 7.1 TB" in err and "lower fc1's out_features (2,000,000,000)" in err


def test_the_trial_network_is_refused_in_plain_words_naming_fc1(no_layer_is_built) -> None:
    project = mlp_project([1, 8, 8], 50_000_000, 10, dataset="digits", batch_size=32, optimizer="Adam")
    too_big, big = _problems(project, _machine(19))
    assert big == [] and len(too_big) == 1
    message = too_big[0]
    assert "fc1 alone holds 3,250,000,000 parameters (13 GB)" in message
    assert "with the gradients, Adam's two moments and the trainer's copy of the last good weights" in message
    assert "this computer has 19 GB free (23 GB in all)" in message
    assert message.endswith("lower fc1's out_features (50,000,000).")


def test_the_check_before_a_run_refuses_it_too(monkeypatch, no_layer_is_built) -> None:
    monkeypatch.setattr("core.training.precheck.device_memory", _machine(19))
    found = check_before_training(mlp_project([1, 8, 8], 50_000_000, 10, dataset="digits"))
    assert any("fc1 alone holds 3,250,000,000 parameters" in error for error in found.errors)
    assert "fc1 alone holds" in found.refusal()


def test_a_run_taking_most_of_the_memory_is_warned_about_not_refused() -> None:
    project = mlp_project([1, 8, 8], 2_000_000, 10, dataset="digits", batch_size=32)  # about 7.1 GB
    assert _problems(project, _machine(19)) == ([], [])
    too_big, big = _problems(project, _machine(10))
    assert too_big == [] and len(big) == 1
    assert "more than half of the 10 GB this computer has free" in big[0]
    assert _problems(project, _machine(6))[0]  # and refused where it does not fit


def test_outputs_too_big_for_the_batch_suggest_a_smaller_batch() -> None:
    graph = Graph()
    x, conv = graph.add("Input", "x", shape=[3, 128, 128]), graph.add("Conv2d", "conv1", out_channels=64)
    graph.chain([x, conv, graph.add("Flatten", "flat"), graph.add("Linear", "fc", out_features=2), graph.add("Output")])
    settings = TrainingSettings(dataset="", batch_size=512, device="cpu", loss="CrossEntropyLoss")
    project = Project(graph, "Conv", "", settings)
    too_big, big = _problems(project, _machine(6))  # about 4.3 GB, most of it the batch's outputs
    assert too_big == [] and len(big) == 1
    assert "a batch of 512 keeps 4.3 GB of layer outputs" in big[0] and "conv1's [N, 64, 126, 126]: 2.1 GB" in big[0]
    # validation and test run in batches of 256 whatever the batch size (EVAL_BATCH_SIZE): 256 is the least to say
    assert big[0].endswith("lower the batch size (512) to 256.")


def test_the_optimizer_state_follows_the_optimizer_and_frozen_layers_have_none() -> None:
    def need(**training):
        project = mlp_project([4], 100, 3, dataset="", **training)
        return training_need(project.graph, analyze(project.graph), project.training)

    weights = need().weights
    assert weights == (4 * 100 + 100 + 100 * 3 + 3) * 4
    assert need(optimizer="Adam").optimizer_state == 2 * weights
    assert need(optimizer="SGD").optimizer_state == 0
    assert need(optimizer="SGD", momentum=0.9).optimizer_state == weights
    assert need(optimizer="RMSprop", momentum=0.9).optimizer_state == 2 * weights
    project = mlp_project([4], 100, 3, dataset="")
    next(n for n in project.graph.nodes if n.name == "fc1").trainable = False
    frozen = training_need(project.graph, analyze(project.graph), project.training)
    assert frozen.gradients == (100 * 3 + 3) * 4 and frozen.weights == weights


@pytest.mark.parametrize("name", ["digits_mlp", "mnist_cnn", "residual_cnn", "sequence_transformer", "resnet18"])
def test_the_examples_pass_without_a_memory_word_on_this_computer(name: str) -> None:
    project = example(name)
    assert _problems(project, device_memory) == ([], [])


def test_check_of_an_example_says_ok_without_a_warning(capsys) -> None:
    from core.cli import DEFAULT_EXAMPLE

    assert main(["check", str(DEFAULT_EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK: the network is valid." in out and "warning" not in out


def test_this_computer_says_its_memory() -> None:
    memory = computer_memory()
    assert memory is not None and memory.total > 100 * 1000**2
    assert memory.available is None or 0 <= memory.available <= memory.total
