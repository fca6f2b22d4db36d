"""A hook for end-to-end tests of the real app: ``TORCHCANVAS_TEST_SCRIPT=file.py`` runs that file once the
window is shown, inside the event loop, with ``window`` and ``app`` in its namespace. Unset, it does nothing."""

from __future__ import annotations

import os
import runpy
from typing import Any

ENV = "TORCHCANVAS_TEST_SCRIPT"


def schedule(window: Any) -> None:
    """Run $TORCHCANVAS_TEST_SCRIPT (if set) as soon as the event loop starts."""
    path = os.environ.get(ENV)
    if not path:
        return
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def run() -> None:
        runpy.run_path(path, init_globals={"window": window, "app": QApplication.instance()})

    QTimer.singleShot(0, run)
