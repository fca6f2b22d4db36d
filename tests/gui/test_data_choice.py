"""Choosing a dataset in the window loads it off the GUI thread: a big folder or table took seconds in which the
window did not answer, because the dashboard loaded the choice on the GUI thread before using it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoStack

from core.files.project import load
from gui.training import dashboard_data as dashboard_module
from gui.training import data_load
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def ready_dashboard(qtbot) -> tuple[TrainingDashboard, QUndoStack]:
    stack = QUndoStack()
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(load(EXAMPLES / "digits_mlp.json"), stack)
    dash.refresh_dataset()
    return dash, stack


@pytest.mark.slow
def test_a_dataset_chosen_in_the_list_loads_while_the_window_keeps_answering(qtbot, monkeypatch) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    real = data_load.load_for_preview

    def slow(settings):  # a big folder on a slow disk: the test lets it end after it saw the GUI thread run
        if settings.dataset != "iris":
            return real(settings)
        threads.append(threading.current_thread())
        started.set()
        release.wait(5)
        try:
            return real(settings)
        finally:
            finished.set()

    dash, stack = ready_dashboard(qtbot)
    monkeypatch.setattr(data_load, "load_for_preview", slow)
    monkeypatch.setattr(dashboard_module, "load_for_preview", slow)  # the name the dashboard loaded with before
    combo = dash.panel.dataset
    combo.activated.emit(combo.findData("iris"))  # the user picks iris in the list
    qtbot.waitUntil(started.is_set, timeout=5_000)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=3_000)  # the GUI thread handles events meanwhile
    timer.stop()
    assert not finished.is_set()  # ... while the load still waits (on the GUI thread it had to end first)
    assert threads[0] is not threading.main_thread()
    assert "Loading iris" in dash.panel.data_note.text()
    assert dash.project.training.dataset == "digits"  # the project keeps its data until the new one is loaded
    with qtbot.waitSignal(dash.choice_loader.loaded, timeout=10_000):
        release.set()
    assert dash.project.training.dataset == "iris"
    assert dash.project.graph.nodes_of_type("Input")[0].params["shape"] == [4]
    assert dash.dataset is not None and dash.dataset.num_classes == 3
    assert dash.panel.data_note.isHidden()
    stack.undo()  # one undo step: the dataset and the Input shape it fitted
    assert dash.project.training.dataset == "digits"
    assert dash.project.graph.nodes_of_type("Input")[0].params["shape"] == [1, 8, 8]


def test_a_choice_that_cannot_be_loaded_says_why_and_keeps_the_data(qtbot, tmp_path) -> None:
    dash, stack = ready_dashboard(qtbot)
    with qtbot.waitSignal(dash.choice_loader.loaded, timeout=10_000):
        dash.panel.dataset_chosen.emit(f"npz:{tmp_path / 'missing.npz'}")
    assert "missing.npz: no such file" in dash.panel.data_note.text()
    assert dash.project.training.dataset == "digits" and stack.count() == 0


def test_the_short_names_of_user_data_leave_out_the_choices() -> None:
    """The form and its messages name a table by its file: 'houses.csv', not 'houses.csv?label=price'."""
    from gui.training.data_load import short_name
    from gui.training.panel_text import short_spec

    assert short_name("table:/data/houses.csv?label=price&ignore=id") == "houses.csv"
    assert short_name("text:/data/reviews.txt?tokenizer=char") == "reviews.txt"
    assert short_name("npz:/data/x.npz") == "x.npz" and short_name("spirals:noise=0.3") == "spirals:noise=0.3"
    assert short_spec("table:/data/houses.csv?label=price") == "houses.csv (table)"
    assert short_spec("folder:/data/pets/") == "pets (image folder)"
    pair = "idx:/d/train-images-idx3-ubyte,/d/train-labels-idx1-ubyte"
    assert short_spec(pair) == "train-images-idx3-ubyte (idx file)"
    assert short_spec("shapes:classes=3") == "shapes:classes=3"
