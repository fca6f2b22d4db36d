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


def test_batch_and_epoch_events_reach_the_gui_thread_in_groups_every_one_in_order(qtbot):
    from gui.training.worker import TrainingRun

    run = TrainingRun(None, load_data=False)
    got: list[tuple[str, int]] = []
    run.training_event.connect(lambda event: got.append((event.kind, event.step or 0)))  # same thread: direct
    for step in range(1, 21):
        run._deliver(batch(step))
    assert got == [("batch", 1)]  # the first at once (the progress bar starts moving), then held together
    run._deliver(TrainEvent("epoch", epoch=1, epochs=2, step=20, loss=0.5))
    assert len(got) == 1  # an epoch's line waits for the group too (at most DELIVERY_S)
    run._deliver(TrainEvent("notice", epoch=1, message="Paused."))  # anything else goes out at once, after them
    assert got == [("batch", step) for step in range(1, 21)] + [("epoch", 20), ("notice", 0)]
    run._deliver(batch(21))
    run._deliver_held()  # what a run that raised still delivers before its result
    assert got[-1] == ("batch", 21) and len(got) == 23
    run.deleteLater()


def test_a_fast_run_wakes_the_gui_thread_a_few_times_a_second(qtbot):
    """Ten epochs of ten batches in 0.1 s from a worker thread: a handful of queued groups, every event once."""
    import threading
    import time

    from gui.training.worker import TrainingRun

    run = TrainingRun(None, load_data=False)
    groups: list[int] = []
    got: list[str] = []
    run._arrived.connect(lambda events: groups.append(len(events)))
    run.training_event.connect(lambda event: got.append(event.kind))

    def train() -> None:
        for epoch in range(1, 11):
            for b in range(1, 11):
                run._deliver(batch(10 * (epoch - 1) + b))
                time.sleep(0.001)
            run._deliver(TrainEvent("epoch", epoch=epoch, epochs=10, step=10 * epoch))
        run._deliver(TrainEvent("end", epoch=10, message="done"))

    worker = threading.Thread(target=train)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(got) == 111, timeout=2000)
    assert got.count("epoch") == 10 and got[-1] == "end"
    assert len(groups) <= 4, groups  # one queued call per event before: 21 for the epochs and the end alone
    run.deleteLater()
