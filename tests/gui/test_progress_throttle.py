"""While a run trains, the plots get every batch point but the progress bar is painted a few times a second:
painting it for each of 10 events a second (twice each) was two thirds of the GUI thread's work during a run."""

from __future__ import annotations

from core.training import TrainEvent
from gui.training import dashboard as dashboard_module
from gui.training.dashboard import TrainingDashboard


def batch(step: int) -> TrainEvent:
    return TrainEvent(
        "batch", epoch=1, epochs=2, batch=step, batches=100, step=step, loss=1.0 / step, lr=0.01, eta_s=5.0
    )


def test_progress_shows_the_newest_batch_a_few_times_a_second_and_plots_every_point(qtbot):
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    run = object()
    dash.run = run
    dash.sender = lambda: run  # events as if they came from the running run
    shown: list[int] = []
    on_event = dash.panel.on_event
    dash.panel.on_event = lambda event: (shown.append(event.step or 0), on_event(event))
    for step in range(1, 11):
        dash._on_event(batch(step))
    assert dash.plots.point_counts()["batch loss"] == 10  # every point is plotted
    assert shown == [1]  # the first at once, the rest wait for the next progress tick
    assert "batch 1/100" in dash.panel.progress.text()
    qtbot.waitUntil(lambda: shown == [1, 10], timeout=5 * dashboard_module.PROGRESS_MS)
    assert dash.panel.progress.value() == 10 and "batch 10/100" in dash.panel.progress.text()
    dash._on_event(batch(11))
    dash._on_event(batch(12))
    dash._on_event(TrainEvent("epoch", epoch=1, epochs=2, loss=0.5))  # a pending batch is shown before it
    assert shown[-2:] == [12, 0]
    dash.run = None


def test_batch_events_reach_the_gui_thread_in_groups_every_one_in_order(qtbot):
    from gui.training.worker import TrainingRun

    run = TrainingRun(None, load_data=False)
    got: list[tuple[str, int]] = []
    run.training_event.connect(lambda event: got.append((event.kind, event.step or 0)))  # same thread: direct
    for step in range(1, 21):
        run._deliver(batch(step))
    assert got == [("batch", 1)]  # the first at once (the progress bar starts moving), then held together
    run._deliver(TrainEvent("epoch", epoch=1, epochs=2, step=20, loss=0.5))
    assert got == [("batch", step) for step in range(1, 21)] + [("epoch", 20)]
    run._deliver(batch(21))
    run._deliver_held()  # what a run that raised still delivers before its result
    assert got[-1] == ("batch", 21) and len(got) == 22
    run.deleteLater()
