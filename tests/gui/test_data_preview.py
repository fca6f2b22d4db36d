"""The dataset preview loads off the GUI thread: opening a project whose data is slow (a download, a slow disk)
or never ends (a named pipe among a folder's images) must leave the window answering."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from core.files.project import load
from gui.training import dashboard as dashboard_module
from gui.training import data_load
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
    real = data_load.load_for_preview

    def slow(settings):  # a slow disk: the test answers after it saw the GUI thread run
        threads.append(threading.current_thread())
        started.set()
        release.wait(5)
        try:
            return real(settings)
        finally:
            finished.set()

    monkeypatch.setattr(data_load, "load_for_preview", slow)
    monkeypatch.setattr(dashboard_module, "load_for_preview", slow)  # the name the dashboard used before
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


def test_a_newer_choice_wins_over_a_preview_still_loading(qtbot, monkeypatch) -> None:
    release = threading.Event()
    real = data_load.load_for_preview

    def slow(settings):
        if settings.dataset == "digits":
            release.wait(5)
        return real(settings)

    monkeypatch.setattr(data_load, "load_for_preview", slow)
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
