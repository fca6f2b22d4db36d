"""The Runs tab's "Compare with Keras": train the project with Keras 3 (off the GUI thread) and set the two runs
side by side: both curves in the Runs plot, and a table of accuracy, loss, time and samples per second.

The Keras run is the exported Keras script run in a child process (``core.training.keras_compare``); the QThread here
only waits for it and forwards its lines, so the window stays responsive and closing it ends the child.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.code.keras_code import KerasExportError, generate_keras_model
from core.errors import TorchCanvasError
from core.files import project as project_io

if TYPE_CHECKING:
    from core.files.project import Project
    from core.training.keras_compare import KerasRun  # its module imports torch: loaded when a comparison runs

log = logging.getLogger(__name__)

TABLE_COLUMNS = ("Framework", "Test acc.", "Test loss", "Time (fit)", "Samples/s")


def table_cell(text: str, tooltip: str = "") -> QTableWidgetItem:
    """A read-only cell of the runs table and of this comparison's table."""
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tooltip:
        item.setToolTip(tooltip)
    return item


class KerasThread(QThread):
    """Runs one Keras comparison; emits each printed line, then ``done`` (a KerasRun) or ``failed`` (a message)."""

    line = Signal(str)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project_io.loads(project_io.dumps(project))  # the thread's own copy: edits go on
        self.process: subprocess.Popen[str] | None = None
        self.stopped = False

    def run(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="torchcanvas-keras-"))
        try:
            from core.training.keras_compare import run_keras  # deferred for start-up: it imports torch

            result = run_keras(self.project, folder, on_line=self.line.emit, started=self._started)
        except TorchCanvasError as exc:
            self.failed.emit("Stopped." if self.stopped else str(exc))
        except Exception as exc:  # a bug must not kill the thread silently: say it, log the traceback
            log.exception("Keras comparison failed")
            self.failed.emit(f"The Keras run failed: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _started(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        if self.stopped:
            process.terminate()

    def stop(self) -> None:
        """End the child process (the window is closing); the thread then finishes on its own."""
        self.stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


def _cell_text(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return {"acc": f"{100 * value:.1f}%", "loss": f"{value:.4f}", "time": f"{value:.1f} s", "rate": f"{value:,.0f}"}[
        kind
    ]


class KerasComparison(QWidget):
    """The button, a status line and the side-by-side table; ``RunsView`` adds the Keras run to its list."""

    finished_run = Signal(object)  # KerasRun

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thread_: KerasThread | None = None
        self.button = QPushButton("Compare with Keras")
        self.button.setToolTip(
            "Train the same network with Keras 3 (torch backend) on the same data split and settings,\n"
            "then compare both runs: curves in the plot, figures in the table."
        )
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(90)
        self.table.hide()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)  # never leave a Keras child behind
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)

    def start(self, project: Project | None) -> bool:
        """Start a Keras run of ``project``; False (and a message) when none can start."""
        if self.thread_ is not None:
            return False
        if project is None:
            self.status.setText("Open a project first.")
            return False
        try:
            generate_keras_model(project.graph)  # say which layers Keras lacks before starting anything
        except KerasExportError as exc:
            self._error(str(exc))
            return False
        except TorchCanvasError as exc:
            self._error(f"Fix the network first: {exc}")
            return False
        self.thread_ = KerasThread(project, self)
        self.thread_.line.connect(self._line)
        self.thread_.done.connect(self._done)
        self.thread_.failed.connect(self._error)
        self.thread_.finished.connect(self._thread_finished)
        self.button.setEnabled(False)
        self.status.setText("Training with Keras 3… (starting Python and Keras)")
        self.thread_.start()
        return True

    def _line(self, text: str) -> None:
        if text.startswith("Epoch "):
            self.status.setText(f"Training with Keras 3… {text.lower()}")

    def _done(self, result: KerasRun) -> None:
        self.status.setText(
            f"Keras 3: test accuracy {_cell_text(result.test_accuracy, 'acc')} after {len(result.history)} epochs."
        )
        self.finished_run.emit(result)

    def _error(self, message: str) -> None:
        self.status.setText(f"<span style='color:#d93025'>{message.splitlines()[0]}</span>")
        self.status.setToolTip(message)

    def _thread_finished(self) -> None:
        self.thread_ = None
        self.button.setEnabled(True)

    def stop(self, wait_ms: int = 5000) -> None:
        if self.thread_ is not None:
            self.thread_.stop()
            self.thread_.wait(wait_ms)

    def show_table(self, rows: list[tuple[str, float | None, float | None, float | None, float | None]]) -> None:
        self.table.setRowCount(len(rows))
        for r, (name, acc, loss, seconds, rate) in enumerate(rows):
            texts = (name, _cell_text(acc, "acc"), _cell_text(loss, "loss"), _cell_text(seconds, "time"))
            for c, text in enumerate((*texts, _cell_text(rate, "rate"))):
                self.table.setItem(r, c, table_cell(text))
        self.table.resizeColumnsToContents()
        self.table.show()

    def table_rows(self) -> list[list[str]]:
        return [
            [
                item.text() if (item := self.table.item(r, c)) is not None else ""
                for c in range(self.table.columnCount())
            ]
            for r in range(self.table.rowCount())
        ]
