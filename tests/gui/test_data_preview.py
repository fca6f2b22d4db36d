"""The dataset preview loads off the GUI thread: opening a project whose data is slow (a download, a slow disk)
or never ends (a named pipe among a folder's images) must leave the window answering."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication

from core.files.project import load
from gui.training import dashboard as dashboard_module
from gui.training import dashboard_data, data_load
from gui.training.dashboard import TrainingDashboard
from tests.core.train_fixtures import write_images

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def make_dashboard(qtbot, dataset: str | None = None) -> TrainingDashboard:
    project = load(EXAMPLES / "digits_mlp.json")
    if dataset is not None:
        project.training.dataset = dataset
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(project)  # the preview loads once the event loop runs
    return dash


@pytest.mark.slow
def test_the_preview_loads_in_a_thread_while_the_window_keeps_answering(qtbot, monkeypatch) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    real = data_load.preview_data  # what the preview's thread calls (the example's digits: without torch)

    def slow(settings):  # a slow disk: the test answers after it saw the GUI thread run
        threads.append(threading.current_thread())
        started.set()
        release.wait(5)
        try:
            return real(settings)
        finally:
            finished.set()

    monkeypatch.setattr(data_load, "preview_data", slow)
    monkeypatch.setattr(dashboard_data, "load_for_preview", slow)  # the name the dashboard used before
    dash = make_dashboard(qtbot)
    qtbot.waitUntil(started.is_set, timeout=5_000)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=3_000)  # the GUI thread handles events meanwhile
    timer.stop()
    assert not finished.is_set()  # ... while the load still waits (on the GUI thread it had to end first)
    assert threads[0] is not threading.main_thread()
    assert "Loading digits" in dash.panel.preview.info.text() and dash.dataset is None
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        release.set()
    assert dash.dataset is not None and dash.dataset.num_classes == 10
    assert dash.panel.preview.kind == "images"


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_newer_choice_wins_over_a_preview_still_loading(qtbot, monkeypatch) -> None:
    release = threading.Event()
    real = data_load.preview_data

    def slow(settings):
        if settings.dataset == "digits":
            release.wait(60)  # the load here may take seconds (torch's first import): the answer waits for the test
        return real(settings)

    monkeypatch.setattr(data_load, "preview_data", slow)
    dash = make_dashboard(qtbot)
    qtbot.waitUntil(lambda: dash.preview_loader.latest == 1, timeout=5_000)
    dash.refresh_dataset()  # loaded here and now (as choosing a dataset again does)
    assert dash.dataset is not None
    shown = dash.dataset
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        release.set()  # the older answer arrives and is dropped
    assert dash.dataset is shown


def test_a_folder_holding_a_fifo_shows_the_file_and_the_fix(qtbot, tmp_path) -> None:
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    os.mkfifo(root / "dogs" / "pipe.png")  # before: the window froze reading it
    dash = make_dashboard(qtbot, f"folder:{root}")
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        pass
    text = dash.panel.preview.info.text()
    assert "pipe.png: not a regular file but a named pipe (FIFO)" in text and "remove it" in text, text
    assert dash.dataset is None and not dash.panel.train_button.isEnabled()


def test_the_examples_preview_needs_no_torch_and_the_tensors_load_when_asked(qtbot) -> None:
    """The example's digits are previewed from NumPy (``core.datasets.light``): the dashboard then holds no
    tensors until something needs them; ``dataset_when_ready`` loads them in a thread, ``dataset`` at once, and
    both give the run's split (the preview's first samples are its first training samples)."""
    dash = make_dashboard(qtbot)
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        pass
    assert getattr(dash.shown_data, "light", False) and dash.panel.preview.kind == "images"
    assert dash.panel.preview.dataset is None  # nothing for augmentation to draw from until the tensors come
    assert dash.dataset_when_ready() is None  # asked: loading in a thread
    with qtbot.waitSignal(dash.full_loader.loaded, timeout=30_000):
        pass
    full = dash.dataset_when_ready()
    assert full is not None and full.x_test is not None and dash.dataset is full
    assert dash.panel.augment.dataset is full
    assert full.preview(16).labels == dash.shown_data.preview(16).labels


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_intent_to_train_starts_loading_torch_in_the_background(qtbot, monkeypatch) -> None:
    """The pointer entering the training form (Train included) and a settings edit start the warm-up (torch and
    ``torch._dynamo``); an idle dashboard does not. Turning augmentation on loads the tensors its samples need."""
    calls: list[str] = []
    monkeypatch.setattr(dashboard_module, "warm_up", lambda: calls.append("warm"))
    dash = make_dashboard(qtbot)
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        pass
    qtbot.wait(200)
    assert calls == [] and not dash._full_loading  # shown and idle: nothing loads
    QApplication.sendEvent(dash.panel, QEnterEvent(QPointF(1, 1), QPointF(1, 1), QPointF(1, 1)))
    assert calls == ["warm"]
    dash.panel.apply({"epochs": 3}, "Epochs")  # an edit of the settings
    assert calls == ["warm", "warm"] and not dash._full_loading
    dash.panel.apply({"augment_flip": True}, "Flip")
    assert dash._full_loading
    with qtbot.waitSignal(dash.full_loader.loaded, timeout=30_000):
        pass
    qtbot.waitUntil(lambda: dash.panel.augment.shown_images() > 0, timeout=5_000)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_train_pressed_cold_says_pytorch_is_starting(qtbot, monkeypatch, tmp_path) -> None:
    """Train pressed before torch is loaded: the run's thread imports it first (seconds), and the progress bar says
    so rather than looking frozen."""
    from gui.training.worker import STARTING_TORCH

    monkeypatch.setattr(dashboard_module, "torch_ready", lambda: False)
    project = load(EXAMPLES / "digits_mlp.json")
    dash = TrainingDashboard(trainer_factory=lambda *args, **kwargs: None)  # no trainer: the run stops at once
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    with qtbot.waitSignal(dash.preview_loader.loaded, timeout=10_000):
        pass
    assert dash.start_training() is not None
    assert dash.panel.progress.format() == STARTING_TORCH == "Starting PyTorch (first run only)…"
    qtbot.waitUntil(lambda: dash.run is None, timeout=30_000)
