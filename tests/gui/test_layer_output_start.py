"""Layer output before training shows the weights training starts from: an imported trained network's own, said
as "imported weights" (trial 5 J7: it showed random weights' outputs, 0.02 where the network gives 33)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.datasets import load_dataset
from core.files.initial_weights import save_with_weights
from core.fx_import import import_model
from gui.inspect.output_feed import sample_for


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


def test_an_imported_network_shows_its_own_weights_outputs_before_training(qtbot, window, tmp_path) -> None:
    torch.manual_seed(7)
    original = Tiny().eval()
    with torch.no_grad():
        original.fc2.weight.mul_(50.0)  # outputs far from what the project's seed draws
    result = import_model(original, (64,), name="tiny")
    result.project.training.dataset = "digits"
    path = tmp_path / "tiny.json"
    save_with_weights(result.project, result.state, path)
    assert window.open_file(path)
    data = load_dataset("digits")
    dock = window.layer_output
    dock.dataset_source = lambda: data
    fc2 = next(n.id for n in window.document.graph.nodes if n.name == "fc2")
    window.scene.select_nodes([fc2])
    qtbot.waitUntil(lambda: dock.output is not None and dock.output.name == "fc2", timeout=60_000)
    with torch.no_grad():
        expected = original(sample_for(data, 0, window.document.project)[None])[0]
    assert dock.output.vector == pytest.approx(expected.numpy(), abs=1e-4)
    assert dock.words.startswith("imported weights (tiny.initial.pt), before training")
    assert "imported weights (tiny.initial.pt)" in dock.numbers.text()
