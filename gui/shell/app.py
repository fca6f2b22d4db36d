"""Start the editor: ``run_app(args)`` is what ``torchcanvas [PROJECT] [--screenshot FILE]`` calls."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from core.errors import TorchCanvasError, plain_message
from core.logs import append_traceback
from core.resources import resource_dir
from gui.shell.platform_check import choose

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from gui.shell.mainwindow import MainWindow
    from gui.training.dashboard import TrainingDashboard

SCREENSHOT_SIZE = (1600, 1000)


def install_excepthook() -> None:
    """Log unexpected errors to a file and show a plain message instead of a traceback."""
    sys.excepthook = excepthook


def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Write the traceback to the log file; show the user a plain message box (or stderr without a screen)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    if error.__traceback__ is None:
        error = error.with_traceback(tb)
    text = plain_message(error, None if isinstance(error, TorchCanvasError) else append_traceback(error))
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is not None and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QMessageBox.critical(None, "TorchCanvas", text)
        else:
            print(f"torchcanvas: {text}", file=sys.stderr)
    except Exception:  # pragma: no cover - never let the hook itself raise
        print(f"torchcanvas: {text}", file=sys.stderr)


def run_app(args: argparse.Namespace) -> int:
    screenshot = getattr(args, "screenshot", None)
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    choice = choose()  # before Qt, whose answer to a missing display or library is an abort with the wrong advice
    if choice.problem:
        print(f"torchcanvas: {choice.problem}", file=sys.stderr)
        return 2
    if choice.platform:
        os.environ["QT_QPA_PLATFORM"] = choice.platform
    from PySide6.QtWidgets import QApplication

    # Qt, and the window's modules that import it, load only once choose() has found a platform that works: a Qt
    # library missing there then gets choose()'s advice instead of an abort.
    from gui.shell import recovery
    from gui.shell.first_paint import after_first_paint
    from gui.shell.mainwindow import MainWindow

    existing = QApplication.instance()  # a test or a second call may have made it already
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("TorchCanvas")
    app.setOrganizationName("TorchCanvas")
    app.setDesktopFileName("torchcanvas")  # matches packaging/torchcanvas.desktop (taskbar grouping, Wayland icon)
    app.setWindowIcon(app_icon())
    install_excepthook()
    window = MainWindow()
    if screenshot:  # no screen to answer a dialog on: an error is printed and the command fails instead
        errors: list[str] = []
        window.show_error = lambda title, message: errors.append(f"{title}: {message}")  # type: ignore[method-assign]
        training = window.install_training()
    project = getattr(args, "project", None)
    if project:
        if not window.open_file(project):
            window.open_example()
    else:
        window.open_example()
    size = getattr(args, "size", None) or SCREENSHOT_SIZE
    window.resize(*size)
    if screenshot:
        if errors:  # the file named on the command line cannot be opened: exit 2, as the CLI does for it
            print("torchcanvas: error: " + "\n".join(errors), file=sys.stderr)
            return 2
        # Deferred for start-up: the dashboard (pyqtgraph) docks after the first paint; only a screenshot needs it now.
        from gui.training.window import train_for_screenshot

        if getattr(args, "train_epochs", None) and not train_for_screenshot(training, args.train_epochs):
            result = training.last_result  # None when Train could not start (its reason is printed already)
            if result is not None and result.status != "finished":
                print(f"torchcanvas: training {result.status}: {result.message}", file=sys.stderr)
            take_screenshot(window, screenshot, size)  # the window shows why; the exit code says it failed
            return 1
        return take_screenshot(window, screenshot, size)
    window.show()
    # The training dashboard (pyqtgraph and the form; the data preview loads in a thread) docks once the window is
    # painted, so the window is not held back by it. It imports no trainer: the first Train does, in its thread.
    after_first_paint(window, lambda: prepare_on_hover(window, window.install_training()))
    window.autosaver = recovery.install(window)  # autosave ~2 s after edits; offer work left by a crashed run
    status = app.exec()
    wait_for_background_imports(10.0)
    return status


def app_icon() -> QIcon:
    """The application icon from every PNG size in resources/icons (the SVG needs Qt's optional svg plugin)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for path in sorted(resource_dir("icons").glob("torchcanvas-*.png")):
        icon.addFile(str(path))
    return icon


def take_screenshot(window: MainWindow, path: str | Path, size: tuple[int, int] = SCREENSHOT_SIZE) -> int:
    from PySide6.QtWidgets import QApplication

    window.resize(*size)
    window.show()
    for _ in range(5):
        QApplication.processEvents()
    window.view.fit_all()
    QApplication.processEvents()
    image = window.grab()
    if not image.save(str(path), "PNG"):
        print(f"torchcanvas: error: could not write the screenshot to {path}", file=sys.stderr)
        return 1
    print(f"Saved a {image.width()}x{image.height()} screenshot to {path}")
    window.document.undo_stack.setClean()
    window.close()
    wait_for_background_imports()
    return 0


# Threads that may be inside torch's import while the window closes (the example's data preview, the warm-up).
IMPORTING_THREADS = ("torchcanvas-data-preview", "torchcanvas-warm-up")


def wait_for_background_imports(timeout: float = 60.0) -> None:
    """A process that exits while a thread is still inside torch's import aborts in torch's C++ teardown
    ("terminate called without an active exception", seen with --screenshot in a fresh clone, whose imports are
    slow without compiled caches): let those threads finish first, within ``timeout`` seconds."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name in IMPORTING_THREADS and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def prepare_on_hover(window: MainWindow, dashboard: TrainingDashboard) -> None:
    """The pointer on the toolbar's Train shows intent to train: torch loads in the background then (an idle
    window imports none of it), so the click that follows starts the run at once."""
    from PySide6.QtGui import QAction

    action = window.findChild(QAction, "train_action")
    if action is not None:
        action.hovered.connect(dashboard.prepare_to_train)
