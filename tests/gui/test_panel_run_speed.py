"""The progress bar's speed stays true for a slow run: a big network on a CPU trains under one sample a second,
and the bar said "0 samples/s" while it trained."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QProgressBar

from core.training import TrainEvent
from gui.training.panel_form import KerasLog
from gui.training.panel_run import RunReport, speed_words


def batch_at(samples_per_s: float) -> TrainEvent:
    return TrainEvent(
        "batch", epoch=1, epochs=2, batch=3, batches=100, step=3, loss=1.0, samples_per_s=samples_per_s, eta_s=500.0
    )


def report_in(qtbot, width: int) -> tuple[RunReport, QProgressBar]:
    bar, log = QProgressBar(), KerasLog()
    qtbot.addWidget(bar)
    qtbot.addWidget(log)
    bar.resize(width, 30)
    return RunReport(bar, log), bar


def test_a_run_under_one_sample_a_second_says_its_speed_per_minute(qtbot):
    report, bar = report_in(qtbot, 900)
    report.show(batch_at(0.4))
    assert "24 samples/min" in bar.format()
    assert "24 samples/min" in bar.toolTip()
    assert "0 samples/s" not in bar.toolTip()


def test_a_narrow_bar_still_drops_the_speed_first(qtbot):
    report, bar = report_in(qtbot, 260)
    report.show(batch_at(0.4))
    assert "samples/" not in bar.format() and "ETA" in bar.format()
    assert "24 samples/min" in bar.toolTip()


@pytest.mark.parametrize(
    ("rate", "words"),
    [(52_078.4, "52,078 samples/s"), (12.4, "12 samples/s"), (2.46, "2.5 samples/s"), (0.004, "0.24 samples/min")],
)
def test_speed_words(rate, words):
    assert speed_words(rate) == words


def test_no_speed_given_shows_none(qtbot):
    report, bar = report_in(qtbot, 900)
    report.show(batch_at(0.0))
    assert "samples" not in bar.toolTip() and "ETA" in bar.toolTip()
