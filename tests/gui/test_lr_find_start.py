"""The window's Find LR tab starts the range test from the weights training starts from: an imported trained
network's own, beside the project file (trial 5 J11: it tested random weights, first loss 2.29, chance)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.datasets import load_dataset
from core.files.initial_weights import save_with_weights
from core.fx_import import import_model
from gui.shell.document import Document
from gui.training.dashboard import TrainingDashboard


@pytest.mark.slow  # a range test of up to 100 batches of a small network
def test_the_find_lr_tab_of_an_imported_trained_network_starts_from_its_weights(qtbot, tmp_path) -> None:
    data = load_dataset("digits", input_shape=(64,))
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):  # trained: loss ~0.1 where random weights give 2.3
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(data.x_train), data.y_train).backward()
        optimizer.step()
    result = import_model(model.eval(), (64,), name="trained")
    result.project.training.dataset = "digits"
    path = tmp_path / "trained.json"
    save_with_weights(result.project, result.state, path)
    document = Document()
    document.open(path)
    dash = TrainingDashboard()
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_document(document)
    view = dash.lr_finder
    with qtbot.waitSignal(view.finished, timeout=180_000) as done:
        assert view.find_rate()
    curve = done.args[0]
    assert curve is not None, view.status.text()
    assert curve.raw[0] < 0.5, curve.raw[:3]  # the imported network's loss, not chance's 2.3
    assert "started from imported weights (trained.initial.pt), as training does" in view.status.text()
