"""Fine-tuning an imported network after giving it a new head (issue 27, tester's F26 and F6): the imported
weights load by name and shape, the new head starts fresh, and weights of which nothing fits are refused."""

from __future__ import annotations

import pytest
import torch

from core.datasets import load_dataset
from core.training import Trainer
from tests.core.train_fixtures import mlp_project


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


def _imported(tmp_path, head: int, **training):
    """A project as `torchcanvas import` leaves it (fine_tune on, its own weights file), whose head was then
    changed from 5 outputs to ``head``."""
    before = mlp_project([64], 16, 5, dataset="digits", epochs=1)
    from core.code.script import generate_script
    from core.training.setup import run_as_module

    script, _ = run_as_module(generate_script(before).source)
    torch.manual_seed(1)
    original = script.Net()
    path = tmp_path / "net.initial.pt"
    torch.save(original.state_dict(), path)
    project = mlp_project([64], 16, head, dataset="digits", epochs=1, fine_tune=True, **training)
    return project, path, original


def test_a_new_head_keeps_the_imported_backbone(tmp_path, digits) -> None:
    project, path, original = _imported(tmp_path, head=10)
    project.graph.set_trainable(project.graph.by_name("fc1").id, False)
    notices: list[str] = []
    trainer = Trainer(
        project, data=digits, save=False, initial_weights=path, on_event=lambda e: notices.append(e.message)
    )
    result = trainer.run()
    assert result.status == "finished", result.message
    assert trainer.model is not None
    assert torch.equal(trainer.model.fc1.weight, original.fc1.weight)  # loaded, and frozen
    assert any("2 tensors loaded, 2 new (fc2.weight, fc2.bias)" in m for m in notices), notices


def test_weights_of_another_network_are_refused(tmp_path, digits) -> None:
    project, _, _ = _imported(tmp_path, head=10)
    other = tmp_path / "other.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), other)
    result = Trainer(project, data=digits, save=False, initial_weights=other).run()
    assert result.status == "failed"
    assert "None of the 2 tensors in other.pt fit this network" in result.message


def test_a_frozen_layer_missing_from_the_file_is_said(tmp_path, digits) -> None:
    project, path, _ = _imported(tmp_path, head=10)
    project.graph.set_trainable(project.graph.by_name("fc2").id, False)
    notices: list[str] = []
    Trainer(project, data=digits, save=False, initial_weights=path, on_event=lambda e: notices.append(e.message)).run()
    assert any("fc2 is frozen but not in the file" in m for m in notices), notices
