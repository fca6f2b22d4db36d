"""Try it's class probabilities name the bars without the names running into one another (issue 22: at
1280x800 the shapes' 'circle', 'square' and 'triangle' overlapped under five bars)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from gui.training.tryit_widgets import ProbabilityBars

SHAPES = ["circle", "square", "triangle", "cross", "ring"]


def overlapping_names(bars: ProbabilityBars) -> list[str]:
    """Neighbouring tick names under the bars whose texts, centred on their bars, overlap."""
    plot = bars.getPlotItem()
    axis = plot.getAxis("bottom")
    ticks = axis._tickLevels[0] if axis._tickLevels else []
    metrics = QFontMetrics(axis.font())
    per_bar = plot.vb.width() / len(SHAPES)
    found = []
    for (i, a), (j, b) in itertools.pairwise(ticks):
        gap = (j - i) * per_bar
        need = (metrics.horizontalAdvance(a) + metrics.horizontalAdvance(b)) / 2 + 4
        if need > gap:
            found.append(f"{a!r} and {b!r} need {need:.0f} px, {gap:.0f} px apart")
    return found


def shown_bars(qtbot, width: int) -> ProbabilityBars:
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.resize(width, 220)
    bars.show()
    qtbot.waitExposed(bars)
    bars.setup(SimpleNamespace(regression=False, class_names=SHAPES))
    bars.show_values(np.array([0.1, 0.1, 0.1, 0.3, 0.4]))
    for _ in range(5):
        QApplication.processEvents()
    return bars


def test_narrow_bars_name_every_other_class_without_overlap(qtbot):
    bars = shown_bars(qtbot, 220)  # the Try it plot at 1280x800
    assert overlapping_names(bars) == []
    shown = [name for _, name in bars.getPlotItem().getAxis("bottom")._tickLevels[0]]
    assert "circle" in shown and len(shown) < len(SHAPES)


def test_wide_bars_name_every_class(qtbot):
    bars = shown_bars(qtbot, 520)
    assert overlapping_names(bars) == []
    assert [name for _, name in bars.getPlotItem().getAxis("bottom")._tickLevels[0]] == SHAPES
