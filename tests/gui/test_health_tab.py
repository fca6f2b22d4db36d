"""The Layer health tab: the watcher's numbers cross from the training thread as copies, in few groups, and show
as a layers x time heat map with the diagnoses in words."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThread

from core.files.project import load
from core.inspect.health import Diagnosis, HealthSample, LayerHealth
from core.training import Trainer
from gui.inspect.health_feed import HealthFeed
from gui.inspect.health_view import HEALTHY, MAX_COLUMNS, HealthView
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def sample(step: int, fc1: float, dead: float) -> HealthSample:
    layers = [LayerHealth("fc1", "n1", grad_norm=fc1, update_ratio=1e-3), LayerHealth("relu", "n2", dead=dead)]
    return HealthSample(step, 2.0, 2.1, layers)


def feed_from_a_thread(feed: HealthFeed, samples: list[HealthSample], diagnoses=()) -> None:
    """What the trainer does: call the feed's callbacks on another thread, then detach (the last flush)."""

    def train() -> None:
        for s in samples:
            feed.take_sample(s)
        for d in diagnoses:
            feed.take_diagnosis(d)
        feed.flush()

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()


def test_samples_cross_to_the_gui_thread_as_copies_and_draw_a_layers_by_time_map(qtbot) -> None:
    view = HealthView()
    qtbot.addWidget(view)
    threads = []
    view.feed.arrived.connect(lambda *_: threads.append(QThread.currentThread()))
    samples = [sample(10 * (i + 1), 10.0 ** -(i + 1), 0.25 * i) for i in range(3)]
    feed_from_a_thread(view.feed, samples)
    qtbot.waitUntil(lambda: len(view.steps) == 3)
    assert all(t is view.thread() for t in threads)  # the slot ran on the GUI thread
    samples[0].layers[0].grad_norm = 123.0  # the trainer's objects may change afterwards: the view holds copies
    assert view.steps == [10, 20, 30]
    grad = view.matrix("grad_norm")
    assert view.names == ["fc1", "relu"]
    assert grad[0].tolist() == pytest.approx([-1.0, -2.0, -3.0])  # log10 of fc1's norms, in time order
    assert all(math.isnan(v) for v in grad[1])  # a ReLU has no weights: no gradient row
    assert view.matrix("dead")[1].tolist() == [0.0, 0.25, 0.5]
    assert view.rows_of("dead") == ["relu"]
    assert view.heat.values.shape == (1, 3)  # the shown metric (gradient norm) has one layer, three samples
    assert [view.diagnoses.item(i).text() for i in range(view.diagnoses.count())] == [HEALTHY]


def test_the_feed_sends_few_groups_and_a_diagnosis_at_once(qtbot) -> None:
    now = [0.0]
    feed = HealthFeed(clock=lambda: now[0])
    view = HealthView()
    qtbot.addWidget(view)
    feed.arrived.connect(view.add)
    diagnosis = Diagnosis("dead", 90, "relu", "90% of relu's units never fire (dead ReLUs): use LeakyReLU.")
    feed_from_a_thread(feed, [sample(i, 0.1, 0.9) for i in range(1, 101)], [diagnosis])
    qtbot.waitUntil(lambda: len(view.steps) == 100)
    assert feed.groups == 2  # the first sample, then everything held until the diagnosis (the clock stood still)
    assert view.messages == [diagnosis.message]
    assert view.diagnoses.count() == 1  # the "nothing wrong" line went
    with qtbot.waitSignal(view.node_activated) as clicked:
        view.diagnoses.itemClicked.emit(view.diagnoses.item(0))
    assert clicked.args == ["n2"]


def test_a_long_run_is_merged_into_at_most_max_columns(qtbot) -> None:
    view = HealthView()
    qtbot.addWidget(view)
    from gui.inspect.health_feed import point_of

    view.add([point_of(sample(i, 1.0, 0.5)) for i in range(1, 3 * MAX_COLUMNS)], [])
    assert len(view.steps) <= MAX_COLUMNS and view.steps[-1] >= 2 * MAX_COLUMNS
    assert view.matrix("dead").shape == (2, len(view.steps))


def test_unticked_the_run_gets_no_watcher(qtbot) -> None:
    view = HealthView()
    qtbot.addWidget(view)
    project = load(EXAMPLES / "spirals.json")
    assert len(view.watchers_for(project)) == 1
    view.enabled.setChecked(False)
    assert view.watchers_for(project) == []


@pytest.mark.slow
def test_a_run_with_a_far_too_high_rate_is_diagnosed_in_the_tab(qtbot, tmp_path) -> None:
    project = load(EXAMPLES / "spirals.json")
    project.training.optimizer, project.training.lr, project.training.epochs = "Adam", 10.0, 3
    dash = TrainingDashboard(trainer_factory=Trainer)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000):
        dash.start_training()
    health = dash.health
    assert health.steps, "no health sample reached the tab"
    assert health.names[:2] == ["fc1", "relu1"]  # the canvas names, in the network's order
    text = " ".join(health.messages)
    assert "learning rate 10 is too high for Adam" in text, text


@pytest.mark.slow
def test_a_nine_batch_run_shows_its_layers_in_the_tab(qtbot, tmp_path) -> None:
    """F8: a tiny run (9 batches) ended with the tab still saying "Press ▶ Train": the first sample was batch 10."""
    from tests.core.train_fixtures import mlp_project

    project = mlp_project([64], 32, 10, dataset="digits", epochs=1, batch_size=200)  # 1617 rows: 9 batches
    dash = TrainingDashboard(trainer_factory=Trainer)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000):
        dash.start_training()
    health = dash.health
    qtbot.waitUntil(lambda: len(health.steps) >= 2, timeout=5_000)
    assert health.steps[:2] == [1, 2] and max(health.steps) <= 9
    assert health.heat.values.shape == (2, len(health.steps))  # fc1 and fc2 have gradients, one column a sample
    assert "Press" not in health.heat.empty_text and "samples, the last at batch" in health.status.text()


def test_the_view_keeps_qwidgets_metric_so_painting_it_raises_nothing(qtbot) -> None:
    """Qt asks every painted widget for ``metric()``; an attribute of that name (the metric menu was one) made each
    paint print 'Error calling Python override of QWidget::metric()'."""
    from PySide6.QtGui import QPaintDevice

    view = HealthView()
    qtbot.addWidget(view)
    assert view.metric(QPaintDevice.PaintDeviceMetric.PdmWidth) == view.width()
    assert view.shown_metric.currentData() == "grad_norm"


@pytest.mark.slow
def test_a_run_that_ends_its_epoch_at_chance_says_so_in_the_tab(qtbot, tmp_path) -> None:
    """The tab's watcher passes the epoch's figures on: SGD at 10000 trains on without a NaN at 10 % accuracy."""
    from tests.core.train_fixtures import mlp_project

    project = mlp_project([64], 32, 10, dataset="digits", epochs=1, batch_size=32, optimizer="SGD", lr=1e4)
    dash = TrainingDashboard(trainer_factory=Trainer)
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000):
        dash.start_training()
    health = dash.health
    qtbot.waitUntil(lambda: any("at chance" in m for m in health.messages), timeout=5_000)
    chance = next(m for m in health.messages if "at chance" in m)
    assert "the learning rate 10000 is far too high for SGD; try 0.01" in chance


def test_the_tensorboard_box_adds_its_watcher_and_says_what_to_install_without_it(qtbot, monkeypatch) -> None:
    import sys

    from core.inspect.tensorboard import INSTALL, TensorBoardWatcher

    pytest.importorskip("tensorboard", reason='the extra is not installed: pip install "torchcanvas[tensorboard]"')
    project = load(EXAMPLES / "spirals.json")
    view = HealthView()
    qtbot.addWidget(view)
    assert view.tensorboard.isEnabled() and not view.tensorboard.isChecked()
    assert not any(isinstance(w, TensorBoardWatcher) for w in view.watchers_for(project))
    view.tensorboard.setChecked(True)
    view.enabled.setChecked(False)
    assert [type(w) for w in view.watchers_for(project)] == [TensorBoardWatcher]  # with health off too
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    missing = HealthView()
    qtbot.addWidget(missing)
    assert not missing.tensorboard.isEnabled() and "not installed" in missing.tensorboard.text()
    assert missing.tensorboard.toolTip() == INSTALL
