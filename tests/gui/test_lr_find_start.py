"""The window's Find LR tab starts the range test from the weights training starts from: an imported trained
network's own, beside the project file (trial 5 J11: it tested random weights, first loss 2.29, chance); a flat
curve suggests no rate (J5)."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtGui import QUndoStack
from torch import nn

from core.datasets import load_dataset
from core.files.initial_weights import save_with_weights
from core.files.project import load
from core.fx_import import import_model
from core.inspect.lr_find import LrCurve, suggest
from gui.inspect.lr_finder import LrFinderView
from gui.shell.document import Document
from gui.training.dashboard import TrainingDashboard
from tests.gui.test_lr_find_tab import EXAMPLES


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


def test_a_flat_curve_suggests_no_rate_and_use_stays_off(qtbot) -> None:
    """J5: a loss that stays flat over every rate (noise around 2.31) suggested the steepest point of the noise."""

    def flat(project, *, on_point):
        curve = LrCurve(optimizer=project.training.optimizer, current=project.training.lr)
        noise = torch.Generator().manual_seed(0)
        for k in range(100):
            curve.rates.append(1e-7 * 10 ** (k * 8 / 99))
            curve.raw.append(2.31 + 0.03 * float(torch.rand(1, generator=noise)))
            curve.losses.append(curve.raw[-1])
            on_point(curve.rates[-1], curve.raw[-1])
        curve.stopped = "The test ran its 100 batches up to the rate 10."
        return suggest(curve)

    stack = QUndoStack()
    project = load(EXAMPLES / "digits_mlp.json")
    view = LrFinderView(lambda: (project, stack), runner=flat)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.finished, timeout=10_000):
        assert view.find_rate()
    assert "The loss did not fall at any rate from 1e-07 to 10" in view.status.text()
    assert not view.use_button.isEnabled() and not view.mark.isVisible()
    view.apply()
    assert stack.count() == 0
