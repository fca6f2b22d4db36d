"""The live curves mark where two-phase fine-tuning began its second phase (issue 26 with 27): the trainer says
"Phase two: ..." as that epoch starts; before, nothing on the curves showed why the loss and the rate jumped."""

from __future__ import annotations

from core.training.events import TrainEvent
from gui.training.plots import LivePlots


def feed(plots: LivePlots, epochs: int = 4, batches: int = 5, phase_two: int | None = 3) -> None:
    """Events as the trainer sends them: a start, batches and an epoch row each epoch, and the notice as the
    epoch ``phase_two`` starts (epoch set, no step)."""
    plots.add_event(TrainEvent("start", epochs=epochs, batches=batches))
    step = 0
    for epoch in range(1, epochs + 1):
        if epoch == phase_two:
            message = "Phase two: every layer trains now, at learning rate 0.0001."
            plots.add_event(TrainEvent("notice", epoch=epoch, epochs=epochs, message=message))
        for batch in range(1, batches + 1):
            step += 1
            plots.add_event(TrainEvent("batch", epoch, epochs, batch, batches, step, loss=1.0 / step, lr=1e-3))
        plots.add_event(TrainEvent("epoch", epoch, epochs, batches, batches, step, loss=1.0 / step, lr=1e-3))


def test_a_line_on_every_plot_where_phase_two_began(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 300)
    feed(plots)
    assert plots.phase_two_at == 2.0  # epoch 3 starts where epoch 2 ended
    widgets = {widget for widget, _ in plots.phase_lines}
    assert widgets == {plots.loss_widget, plots.acc_widget, plots.lr_widget}
    for widget, line in plots.phase_lines:
        assert line in widget.getPlotItem().items and line.value() == 2.0
    plots.finish()
    plots.grab()  # paints

    plots.reset()  # the next run starts without it
    assert plots.phase_lines == [] and plots.phase_two_at is None
    assert not any(
        type(item).__name__ == "InfiniteLine" and item.value() == 2.0 for item in plots.loss_widget.getPlotItem().items
    )


def test_other_notices_draw_no_line(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    feed(plots, phase_two=None)
    plots.add_event(TrainEvent("notice", epoch=2, message="Paused."))
    assert plots.phase_lines == [] and plots.phase_two_at is None
