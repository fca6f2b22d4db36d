"""The live plots keep a round y range while points arrive, so their axes (the costliest part of a redraw, paid
by the training loop through the GIL) are redrawn a few times per run, not at every redraw."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from gui.training.plots import LivePlots
from gui.widgets.plot_parts import nice_range


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (0.1, 2.3),
        (0.05, 0.4),
        (85.2, 97.1),
        (90.0, 100.0),
        (0.2996, 0.3004),
        (1.0, 1.0),
        (0.0, 0.0),
        (-3.0, 5.0),
        (1e-5, 3e-5),
        (-2.0, -1.5),
    ],
)
def test_nice_range_holds_the_values_with_a_margin(lo, hi):
    low, high = nice_range(lo, hi)
    assert low < lo or (low == lo == 0.0)
    assert high > hi
    if lo >= 0:
        assert low >= 0  # a loss or an accuracy never gets a negative axis


def _batch(step: int, loss: float) -> SimpleNamespace:
    return SimpleNamespace(kind="batch", batches=100, step=step, loss=loss, lr=None)


def _y_range(plots: LivePlots) -> tuple[float, float]:
    lo, hi = plots.loss_widget.getPlotItem().vb.viewRange()[1]
    return round(lo, 9), round(hi, 9)


def _train(plots: LivePlots, steps: range) -> list[tuple[float, float]]:
    """Feed a decaying loss, redrawing every 20 batches as the timer would; the y range after each redraw."""
    ranges = []
    for step in steps:
        plots.add_event(_batch(step, 2.3 * np.exp(-step / 300) + 0.05 * np.sin(step)))
        if step % 20 == 0:
            plots.redraw()
            QApplication.processEvents()  # pyqtgraph applies its autorange when it paints
            ranges.append(_y_range(plots))
    return ranges


def test_the_loss_axis_keeps_its_range_while_the_loss_falls(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 300)
    plots.show()
    plots.set_epochs(10)
    ranges = _train(plots, range(1, 1001))
    changes = sum(a != b for a, b in itertools.pairwise(ranges))
    assert changes <= 8, ranges  # pyqtgraph's own autorange moved the axis at each of the 50 redraws
    assert len(set(ranges[-30:])) == 1, ranges  # once the loss has fallen, the axis stays
    lo, hi = ranges[-1]
    y = plots.batch_loss.series.y
    assert lo <= y.min() and y.max() <= hi  # every point stays in view


def test_a_zoom_by_the_user_is_kept_and_log_scale_is_left_to_autorange(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.set_epochs(10)
    _train(plots, range(1, 101))
    vb = plots.loss_widget.getPlotItem().vb
    vb.setYRange(0.5, 0.6, padding=0)
    vb.sigRangeChangedManually.emit([False, True])  # what a mouse zoom sends
    _train(plots, range(101, 301))
    assert _y_range(plots) == (0.5, 0.6)
    plots.reset()  # a new run: the plot follows its points again
    _train(plots, range(1, 101))
    assert _y_range(plots) != (0.5, 0.6)
    plots.log_scale.setChecked(True)
    assert vb.autoRangeEnabled()[1]
