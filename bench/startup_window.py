"""One start of the editor for ``bench/startup.py``: the window exactly as ``torchcanvas`` builds it (through
``run_app``), watched from outside the shipped code.

It makes the QApplication first (``run_app`` reuses it) so that an application-wide event filter sees the main
window's first paint pass: the figures at the paint are those of the pass's last paint event (each of its widgets
gets one), and a zero timer started at its first event fires once the pass is over. That timer is not the moment
of the paint: ``run_app``'s own after-the-paint work (docking the dashboard, which imports torch) was queued first
and runs before it; measured there, the paint had included that work.
A meta path finder notes when torch is first imported. Once the window has settled (the training dashboard
docked, its data preview showing the example's samples, a ``torchcanvas-warm-up`` import thread, where one runs,
done) and IDLE_SECONDS more have passed, it reads the resident memory and quits. Prints one line of JSON:
``painted``, ``torch`` and ``settled`` as seconds since the epoch (``torch`` null when the window never imported
it), ``painted_cpu`` (CPU seconds of the process, all threads, until the paint: less sensitive than wall time to
other work on a busy machine), ``torch_before_paint``, ``rss_at_paint_mb`` and ``rss_mb`` (idle).

With ``--train cold`` or ``--train hover`` it then presses the toolbar's Train (one epoch) and adds ``first_batch_s``,
from the press to the run's first batch event on the GUI thread, and ``longest_gap_s``, the longest wait between two
10 ms timer ticks meanwhile (how long the window did not answer); ``hover`` first moves the pointer onto the
training form (an Enter event) and waits HOVER_SECONDS, as a user does before clicking.

Run by bench/startup.py, not by hand: ``python bench/startup_window.py IDLE_SECONDS [--train cold|hover]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "offscreen"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOVER_SECONDS = 4.0
seen: dict[str, Any] = {"painted": None, "painted_cpu": None, "torch": None, "torch_before_paint": None}


class TorchWatch:
    """Notes the moment torch is first looked for; the import itself goes on as usual."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "torch" and seen["torch"] is None:
            seen["torch"] = time.time()
            sys.meta_path.remove(self)


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("idle", type=float, help="seconds to stay idle after the first paint before reading RSS")
    parser.add_argument("--train", choices=("none", "cold", "hover"), default="none")
    options = parser.parse_args()
    idle, train = options.idle, options.train
    sys.meta_path.insert(0, TorchWatch())  # type: ignore[arg-type]
    home = Path(tempfile.mkdtemp(prefix="tc-startup-"))  # no recovery file or log of the user's is offered
    os.environ["TORCHCANVAS_RECOVERY_DIR"] = str(home / "recovery")
    os.environ["TORCHCANVAS_LOG_DIR"] = str(home / "logs")

    from PySide6.QtCore import QEvent, QObject, QPointF, QTimer
    from PySide6.QtGui import QAction, QEnterEvent
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(sys.argv[:1])

    def note_paint() -> None:
        seen["painted"], seen["painted_cpu"] = time.time(), time.process_time()
        seen["torch_before_paint"] = "torch" in sys.modules
        seen["rss_at_paint_mb"] = round(rss_mb(), 1)

    def painted() -> None:
        app.removeEventFilter(watcher)
        QTimer.singleShot(200, wait_until_settled)

    def wait_until_settled() -> None:
        boards = [w.training_dashboard for w in app.topLevelWidgets() if getattr(w, "training_dashboard", None)]
        shown = bool(boards) and boards[0].panel.preview.train_count > 0  # the preview shows the example's samples
        warming = any(t.name == "torchcanvas-warm-up" and t.is_alive() for t in threading.enumerate())
        if not shown or warming:
            QTimer.singleShot(200, wait_until_settled)
            return
        seen["settled"] = time.time()
        QTimer.singleShot(int(idle * 1000), measure_and_quit)

    def measure_and_quit() -> None:
        gc.collect()
        seen["rss_mb"] = round(rss_mb(), 1)
        if train == "none":
            app.quit()
        elif train == "hover":
            board = window().training_dashboard
            QApplication.sendEvent(board.panel, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
            QTimer.singleShot(int(HOVER_SECONDS * 1000), press_train)
        else:
            press_train()

    def window() -> Any:
        return next(w for w in app.topLevelWidgets() if getattr(w, "training_dashboard", None) is not None)

    ticks: list[float] = []
    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def press_train() -> None:
        board = window().training_dashboard
        board.runs_root = home / "runs"
        board.project.training.epochs = 1
        ticks.append(time.perf_counter())
        ticker.start()
        pressed = time.perf_counter()
        window().findChild(QAction, "train_action").trigger()

        def on_event(event: Any) -> None:
            if event.kind == "batch" and "first_batch_s" not in seen:
                seen["first_batch_s"] = round(time.perf_counter() - pressed, 3)
                ticker.stop()
                seen["longest_gap_s"] = round(max(b - a for a, b in zip(ticks, [*ticks[1:], time.perf_counter()])), 3)
                board.stop(timeout=10)
                QTimer.singleShot(0, app.quit)

        board.run.training_event.connect(on_event)

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            is_window = isinstance(obj, QWidget) and type(obj.window()).__name__ == "MainWindow"
            if event.type() == QEvent.Type.Paint and is_window:
                if seen["painted"] is None:
                    QTimer.singleShot(0, painted)  # after this paint pass
                note_paint()
            return False

    watcher = FirstPaint()
    app.installEventFilter(watcher)

    from gui.shell.app import run_app

    code = run_app(argparse.Namespace(project=None, screenshot=None, train_epochs=None, size=None))
    for window in app.topLevelWidgets():
        if hasattr(window, "document"):
            window.document.undo_stack.setClean()  # nothing to ask about on the way out
    print(json.dumps(seen))
    return code


if __name__ == "__main__":
    sys.exit(main())
