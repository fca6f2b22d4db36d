"""Test-only entry point: the real app, as the ``torchcanvas`` command starts it, plus a hook for end-to-end tests.

``TORCHCANVAS_TEST_SCRIPT=file.py python -m tests.gui.app_with_hook [ARGS]`` runs that file once the main window is
shown, inside the event loop, with ``window`` and ``app`` in its namespace. The hook lives here, under tests/ (which
is not shipped), so the installed app never runs a file an environment variable names.
"""

from __future__ import annotations

import os
import runpy
import sys

ENV = "TORCHCANVAS_TEST_SCRIPT"


def main(argv: list[str] | None = None) -> int:
    path = os.environ.get(ENV)
    if path:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        # run_app reuses this application; the timer fires once its event loop runs, after the window is shown
        app = QApplication.instance() or QApplication(sys.argv[:1])
        QTimer.singleShot(0, lambda: run_script(path, app))
    from gui.shell.launch import main as launch

    return launch(argv)


def run_script(path: str, app: object) -> None:
    from PySide6.QtWidgets import QApplication

    from gui.shell.mainwindow import MainWindow

    assert isinstance(app, QApplication)
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    runpy.run_path(path, init_globals={"window": window, "app": app})


if __name__ == "__main__":
    sys.exit(main())
