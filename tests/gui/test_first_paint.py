"""The editor shows its window before it docks the training dashboard, whose imports (torch, pyqtgraph, the dynamo
warm-up) took seconds on a small machine while the window was not painted yet; the dashboard still docks right
after, with the toolbar's Train."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from gui.shell import first_paint
from gui.shell.app import run_app
from gui.shell.first_paint import after_first_paint
from gui.shell.mainwindow import MainWindow

ROOT = Path(__file__).resolve().parents[2]
# The window started as bench/startup_window.py starts it (run_app, offscreen, the example open), in a fresh
# process. The work run_app defers until after the first paint (``_FirstPaint.run``) starts only once the paint pass
# is over: at that moment the child notes which heavy libraries are imported already (and which of the app's files
# imported each first), that a paint of the main window came before, and quits.
PAINT_CHILD = """
import argparse, json, os, sys, tempfile, traceback
HEAVY = ("torch", "torchvision", "pyqtgraph", "sklearn")
first = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first:
            mine = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack() if "importlib" not in f.filename]
            first[name] = " <- ".join(reversed(mine[-8:-1]))
sys.meta_path.insert(0, Watch())
home = tempfile.mkdtemp(prefix="tc-paint-")
os.environ["TORCHCANVAS_RECOVERY_DIR"] = os.path.join(home, "recovery")
os.environ["TORCHCANVAS_LOG_DIR"] = os.path.join(home, "logs")
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from gui.shell import first_paint
app = QApplication(sys.argv[:1])
seen = {"painted": False}
def after_paint(self):
    seen["loaded"] = {name: name in sys.modules for name in HEAVY}
    seen["first"] = first
    for window in app.topLevelWidgets():
        if hasattr(window, "document"):
            window.document.undo_stack.setClean()
    app.quit()
first_paint._FirstPaint.run = after_paint
class Paints(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget):
            seen["painted"] = seen["painted"] or type(obj.window()).__name__ == "MainWindow"
        return False
watcher = Paints()
app.installEventFilter(watcher)
from gui.shell.app import run_app
run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None))
print(json.dumps(seen))
"""


class PaintSpy(QObject):
    """Notes, at each paint of the main window, whether the dashboard was docked by then."""

    def __init__(self) -> None:
        super().__init__()
        self.docked_at_paint: list[bool] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            window = watched.window()
            if isinstance(window, MainWindow):
                self.docked_at_paint.append(window.training_dashboard is not None)
        return False


@pytest.mark.slow  # the whole app starts and docks the dashboard: seconds
def test_the_window_is_painted_before_the_training_dashboard_docks(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_app installs its own; keep pytest's
    spy = PaintSpy()
    qapp.installEventFilter(spy)
    qapp.setQuitOnLastWindowClosed(False)  # closing the window at the end must not end the next tests' loops
    windows: list[MainWindow] = []
    waited = [0]

    def quit_once_docked() -> None:
        windows[:] = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        waited[0] += 50
        if (windows and windows[0].training_dashboard is not None) or waited[0] > 60_000:
            qapp.quit()
        else:
            QTimer.singleShot(50, quit_once_docked)

    QTimer.singleShot(50, quit_once_docked)
    try:
        assert run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None)) == 0
    finally:
        qapp.removeEventFilter(spy)
    window = windows[0]
    try:
        assert spy.docked_at_paint and spy.docked_at_paint[0] is False  # before: the dashboard docked first
        assert window.training_dashboard is not None and "training" in window.docks
        assert window.findChild(QAction, "train_action") is not None
    finally:
        window.document.undo_stack.setClean()
        window.close()
        qapp.setQuitOnLastWindowClosed(True)


def test_work_after_the_first_paint_still_runs_when_no_paint_comes(qtbot, monkeypatch):
    monkeypatch.setattr(first_paint, "FIRST_PAINT_WAIT_MS", 50)
    hidden = QWidget()
    qtbot.addWidget(hidden)
    calls: list[str] = []
    after_first_paint(hidden, lambda: calls.append("ran"))
    qtbot.waitUntil(lambda: calls == ["ran"], timeout=30_000)
    qtbot.wait(100)
    assert calls == ["ran"]  # once


def test_work_after_the_first_paint_runs_once_after_it(qtbot):
    shown = QWidget()
    qtbot.addWidget(shown)
    calls: list[bool] = []
    after_first_paint(shown, lambda: calls.append(shown.isVisible()))
    QApplication.processEvents()
    assert calls == []  # not before the window is shown and painted
    shown.show()
    qtbot.waitUntil(lambda: calls == [True], timeout=30_000)
    shown.update()
    qtbot.wait(50)
    assert calls == [True]


@pytest.mark.slow  # a child process starts the app: seconds
def test_the_window_is_painted_before_torch_is_imported():
    """The palette, the canvas and shape inference need no torch (seconds and ~500 MB on a small machine): at the
    first paint neither torch nor torchvision, pyqtgraph or scikit-learn is imported. Before: the first analysis
    imported ``core.datasets.info``, whose package imported every source module, and with them torch."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PAINT_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["painted"]  # the deferred work ran after a paint, not after the wait for one
    loaded = [name for name, is_loaded in seen["loaded"].items() if is_loaded]
    assert not loaded, "imported before the first paint:\n" + "\n".join(f"{n}: {seen['first'][n]}" for n in loaded)


def _thread_watch(watched: tuple[str, ...], prefix: str) -> str:
    """The start of a child script: it notes which thread first imports each of ``watched`` (in ``first``), and
    keeps its recovery files and logs in a fresh folder."""
    return f"""
import argparse, json, os, sys, tempfile, threading
WATCHED = {watched!r}
first = {{}}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED and name not in first:
            first[name] = threading.current_thread().name
sys.meta_path.insert(0, Watch())
home = tempfile.mkdtemp(prefix="{prefix}")
os.environ["TORCHCANVAS_RECOVERY_DIR"] = os.path.join(home, "recovery")
os.environ["TORCHCANVAS_LOG_DIR"] = os.path.join(home, "logs")
"""


# The window as ``torchcanvas`` starts it, left idle: once the dashboard has docked and its data preview shows the
# example's samples, and a moment more, the child lists which heavy modules were imported and by which thread.
IDLE_CHILD = (
    _thread_watch(("torch", "torch._dynamo", "sklearn", "core.training.trainer"), "tc-idle-")
    + """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
state = {"waited": 0, "shown_at": None}
def poll():
    state["waited"] += 50
    windows = [w for w in app.topLevelWidgets() if getattr(w, "training_dashboard", None) is not None]
    if windows and windows[0].training_dashboard.panel.preview.train_count and state["shown_at"] is None:
        state["shown_at"] = state["waited"]
    if (state["shown_at"] is not None and state["waited"] - state["shown_at"] >= 3000) or state["waited"] > 120_000:
        state["preview"] = state["shown_at"] is not None
        state["first"] = first
        state["loaded"] = {name: name in sys.modules for name in WATCHED}
        for window in app.topLevelWidgets():
            if hasattr(window, "document"):
                window.document.undo_stack.setClean()
        app.quit()
    else:
        QTimer.singleShot(50, poll)
QTimer.singleShot(50, poll)
from gui.shell.app import run_app
run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None))
print(json.dumps(state))
"""
)


@pytest.mark.slow  # a child process starts the app: seconds
def test_an_idle_window_has_imported_neither_torch_nor_scikit_learn():
    """Nothing pressed, the example open, its data preview shown and the window idle for 3 s: neither torch (its
    CUDA build alone holds ~500 MB), ``torch._dynamo``, the trainer nor scikit-learn is imported. Before: the
    preview's thread imported torch (the split was drawn by ``torch.randperm``) and scikit-learn (the digits), and
    a warm-up thread ``torch._dynamo`` once it was shown: 978 MB idle. Now the digits' preview is drawn with NumPy
    (``core.datasets.light``), and torch loads once the user shows intent to train (``prepare_to_train``)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", IDLE_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["preview"], "the example's data preview was never shown"
    loaded = [name for name, is_loaded in state["loaded"].items() if is_loaded]
    assert not loaded, f"an idle window imported {loaded} (first by threads {state['first']})"


def test_the_device_list_names_the_gpus_when_it_is_opened(qtbot):
    """The form lists Auto and CPU without torch; opening the list asks torch for the GPUs, and a device the
    project names that this computer lacks is then marked so (it was listed under its bare value until then)."""
    from gui.training.panel_form import DeviceCombo

    combo = DeviceCombo("tip")
    qtbot.addWidget(combo)
    combo.probed = False  # as in a window that has not imported torch yet
    combo.addItem(combo.missing_label("cuda:7"), "cuda:7")
    assert [combo.itemData(i) for i in range(combo.count())][:2] == ["auto", "cpu"]
    assert combo.itemText(2) == "cuda:7"
    combo.showPopup()
    combo.hidePopup()
    assert combo.probed
    assert combo.itemText(combo.findData("cuda:7")) == "cuda:7 (not found on this computer)"
    assert combo.itemText(combo.findData("auto")).startswith("Auto")
    assert combo.findData("cpu") >= 0


# The window as ``torchcanvas`` starts it; Train is pressed as soon as the dashboard docks, and the child notes
# which thread first imported torch's packages and the model importer (whose package imports torch).
TRAIN_CHILD = (
    _thread_watch(("torch", "torch._dynamo", "core.fx_import", "core.training.trainer"), "tc-train-")
    + """
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
state = {"waited": 0, "batch": False, "pressed": False}
def dashboard():
    found = [w for w in app.topLevelWidgets() if getattr(w, "training_dashboard", None) is not None]
    return found[0] if found else None
def poll():
    state["waited"] += 20
    window = dashboard()
    if window is not None and not state["pressed"]:
        state["pressed"] = True
        board = window.training_dashboard
        board.runs_root = Path(home) / "runs"
        board.project.training.epochs = 1
        window.findChild(QAction, "train_action").trigger()
        if board.run is not None:
            board.run.training_event.connect(lambda e: state.update(batch=state["batch"] or e.kind == "batch"))
    if state["batch"] or state["waited"] > 120_000:
        window.training_dashboard.stop(timeout=10)
        window.document.undo_stack.setClean()
        state["first"] = first
        app.quit()
    else:
        QTimer.singleShot(20, poll)
QTimer.singleShot(20, poll)
from gui.shell.app import run_app
run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None))
print(json.dumps(state))
"""
)


@pytest.mark.slow  # a child process starts the app and trains: seconds
def test_the_first_train_imports_torch_off_the_gui_thread():
    """Train pressed as soon as the dashboard docks: the run trains, and neither torch, ``torch._dynamo``, the
    trainer nor the model importer is imported by the GUI thread (each takes seconds on a small machine, with the
    window not answering). Before: ``start_training`` imported ``core.fx_import`` (for an imported model's
    weights, which the example has none of), and with it torch, on the GUI thread."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["pressed"] and state["batch"], "the run never reached its first batch"
    on_gui = [name for name, thread in state["first"].items() if thread == "MainThread"]
    assert not on_gui, f"imported on the GUI thread: {on_gui} ({state['first']})"
