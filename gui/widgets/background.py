"""One job at a time in a thread, the newest request waiting in place of an older one: Try it predicts with it and
reads a dropped image, the why view explains a prediction, and the window never waits for either."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from gui.widgets.thread_cores import one_core_in_this_thread


class Background(QObject):
    """Runs one prediction at a time in a thread; a request made meanwhile waits, replacing an older one."""

    done = Signal(int, object)  # request number, result (an array, or an exception)
    built = Signal(int, object)  # the same for loading a model

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: tuple[int, Callable[[], Any], str] | None = None

    def submit(self, number: int, job: Callable[[], Any], kind: str = "predict") -> None:
        with self._lock:
            if self._busy:
                self._waiting = (number, job, kind)
                return
            self._busy = True
        thread = threading.Thread(target=self._work, args=(number, job, kind), name="torchcanvas-try-it", daemon=True)
        thread.start()

    def _work(self, number: int, job: Callable[[], Any], kind: str) -> None:
        one_core_in_this_thread()  # no OpenMP team beside a run's (every job here runs torch)
        while True:
            try:
                result: Any = job()
            except Exception as exc:  # shown as a message by the view
                result = exc
            (self.built if kind == "load" else self.done).emit(number, result)  # queued to the GUI thread
            with self._lock:
                if self._waiting is None:
                    self._busy = False
                    return
                (number, job, kind), self._waiting = self._waiting, None
