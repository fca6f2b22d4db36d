"""While a run trains, the plots get every batch point but the progress bar is painted a few times a second:
painting it for each of 10 events a second (twice each) was two thirds of the GUI thread's work during a run.

Everything goes through public ways in: the dashboard follows a run started with Train, the run's events come
through its ``training_event`` signal, and the run's thread calls the trainer's ``on_event`` with a clock the
test sets, so how events are grouped does not depend on how loaded the machine is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from core.errors import TorchCanvasError
from core.files.project import load
from core.training import TrainEvent, TrainResult
from gui.training.dashboard import TrainingDashboard
from gui.training.worker import DELIVERY_S, TrainingRun

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def batch(step: int) -> TrainEvent:
    return TrainEvent(
        "batch", epoch=1, epochs=2, batch=step, batches=100, step=step, loss=1.0 / step, lr=0.01, eta_s=5.0
    )


class HeldTrainer:
    """Stands in for the core Trainer: trains nothing and ends only when stopped, so the run stays the one the
    dashboard follows while the test sends it events."""

    made = threading.Event()

    def __init__(self, project, **_) -> None:
        self.released = threading.Event()
        HeldTrainer.made.set()

    def run(self) -> TrainResult:
        self.released.wait(60)
        return TrainResult("stopped", "Stopped.")

    def stop(self) -> None:
        self.released.set()

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass


@pytest.mark.slow
def test_progress_shows_the_newest_batch_a_few_times_a_second_and_plots_every_point(qtbot, tmp_path):
    dash = TrainingDashboard(trainer_factory=HeldTrainer)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(load(EXAMPLES / "spirals.json"))
    HeldTrainer.made.clear()
    run = dash.start_training()
    assert run is not None
    qtbot.waitUntil(HeldTrainer.made.is_set, timeout=30_000)
    QApplication.processEvents()  # the data-loading notices queued before the trainer was made
    seen: list[tuple[str, object]] = []
    dash.panel.progress.valueChanged.connect(lambda value: seen.append(("bar", value)))
    dash.panel.log.textChanged.connect(lambda: seen.append(("log", dash.panel.log.toPlainText().splitlines()[-1])))

    for step in range(1, 11):
        run.training_event.emit(batch(step))  # same thread: the dashboard's slot runs now, with the run as sender
    assert dash.plots.point_counts()["batch loss"] == 10  # every point is plotted
    assert seen == [("bar", 1)]  # the first at once, the rest wait for the next progress tick
    assert "batch 1/100" in dash.panel.progress.text()
    qtbot.waitUntil(lambda: seen == [("bar", 1), ("bar", 10)], timeout=10_000)
    assert dash.panel.progress.value() == 10 and "batch 10/100" in dash.panel.progress.text()
    run.training_event.emit(batch(11))
    run.training_event.emit(batch(12))
    run.training_event.emit(TrainEvent("epoch", epoch=1, epochs=2, loss=0.5))  # a pending batch is shown before it
    assert [kind for kind, _ in seen[-2:]] == ["bar", "log"] and seen[-2] == ("bar", 12)
    assert str(seen[-1][1]).startswith("Epoch 1/2")
    assert dash.event_count["batch"] == 12 and dash.event_count["epoch"] == 1
    assert dash.stop() and dash.last_result.status == "stopped"


def scripted(script, now: list[float], error: BaseException | None = None):
    """A trainer factory whose trainer plays ``script`` (clock time, event) on the run's thread through the
    ``on_event`` the run hands it, then raises ``error`` if given."""

    class Scripted:
        def __init__(self, project, *, on_event, **_) -> None:
            self.on_event = on_event

        def run(self) -> TrainResult:
            for at, event in script:
                now[0] = at
                self.on_event(event)
            if error is not None:
                raise error
            return TrainResult("finished")

        def stop(self) -> None:
            pass

        def pause(self) -> None:
            pass

        def resume(self) -> None:
            pass

    return Scripted


def play(qtbot, script, error: BaseException | None = None) -> tuple[TrainingRun, list[int], list[TrainEvent]]:
    """Run ``script`` on a real run's thread; the sizes of the groups it delivered and every event in order."""
    now = [0.0]
    run = TrainingRun(None, load_data=False, trainer_factory=scripted(script, now, error), clock=lambda: now[0])
    groups: list[int] = []
    got: list[TrainEvent] = []
    run.events_arrived.connect(lambda events: groups.append(len(events)))  # no receiver: called on the run's thread
    run.training_event.connect(got.append)
    run.start()
    assert run.wait(30)
    qtbot.waitUntil(lambda: len(got) == len(script), timeout=10_000)
    run.deleteLater()
    return run, groups, got


def test_batch_and_epoch_events_reach_the_gui_thread_in_groups_every_one_in_order(qtbot):
    script = [(0.0, batch(step)) for step in range(1, 21)]
    script.append((0.0, TrainEvent("epoch", epoch=1, epochs=2, step=20, loss=0.5)))  # it waits for the group too
    script.append((0.0, TrainEvent("notice", epoch=1, message="Paused.")))  # anything else goes out at once
    script.append((DELIVERY_S / 2, batch(21)))  # held: then the trainer raises
    run, groups, got = play(qtbot, script, TorchCanvasError("The data file went away."))
    # the first batch at once (the progress bar starts moving); the rest held until the notice; what a run that
    # raised still holds is delivered before its result
    assert groups == [1, 21, 1]
    assert [(e.kind, e.step or 0) for e in got] == [("batch", step) for step in range(1, 21)] + [
        ("epoch", 20),
        ("notice", 0),
        ("batch", 21),
    ]
    assert run.result.status == "failed" and "The data file went away." in run.result.message


def test_a_fast_run_wakes_the_gui_thread_a_few_times_a_second(qtbot):
    """Ten epochs of ten batches, a batch every 0.3 DELIVERY_S: a group about every DELIVERY_S, every event once.
    Before the grouping each event was one queued call: 111 here."""
    script: list[tuple[float, TrainEvent]] = []
    for epoch in range(1, 11):
        for b in range(1, 11):
            step = 10 * (epoch - 1) + b
            script.append((0.3 * DELIVERY_S * step, batch(step)))
        script.append((0.3 * DELIVERY_S * 10 * epoch, TrainEvent("epoch", epoch=epoch, epochs=10, step=10 * epoch)))
    script.append((script[-1][0], TrainEvent("end", epoch=10, message="done")))
    _, groups, got = play(qtbot, script)
    # batches 1, 5, 9, ..., 97 each open a group (1.2 DELIVERY_S after the one before); the end closes the last
    assert len(groups) == 26 and sum(groups) == 111, groups
    assert [e.kind for e in got] == [e.kind for _, e in script]
    assert [e.step for e in got if e.kind == "batch"] == list(range(1, 101))
