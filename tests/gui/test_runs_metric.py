"""The runs view keeps QWidget.metric(): Qt calls it on every paint, so an attribute of that name breaks painting."""

from __future__ import annotations

from PySide6.QtGui import QPaintDevice

from gui.training.runs import METRICS, RunsView


def test_runs_view_keeps_qwidgets_metric_and_its_menu_lists_the_metrics(qtbot) -> None:
    view = RunsView()
    qtbot.addWidget(view)
    assert view.metric(QPaintDevice.PaintDeviceMetric.PdmWidth) == view.width()
    assert view.shown_metric.currentData() == next(iter(METRICS))
