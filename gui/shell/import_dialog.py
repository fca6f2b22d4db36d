"""File > Import PyTorch Model…: an existing ``nn.Module`` (``file.py:Class`` or ``torchvision:NAME``) becomes a
project with blocks; its weights are saved beside the project as its initial weights. The import itself is
``torchcanvas import`` (``core.fx_import``) run in a child process; this module asks, shows its progress, lets
the user cancel it, and shows what the importer noted (the ``note:`` lines the command line prints) once it is done.

The child is ``python -m core import ...``; a frozen build (PyInstaller) has no ``python -m``, but its executable's
command line is core's (``packaging/torchcanvas_main.py`` -> ``gui.shell.launch.main``), so it runs
``torchcanvas import ...`` instead."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.import_command import child_cli, frozen, module_classes

if TYPE_CHECKING:
    from gui.shell.mainwindow import MainWindow

WARNING = (
    "Importing a .py file runs it, like <code>python file.py</code> would: import only files you trust. "
    "torchvision models are built without downloading weights."
)
HINT_AFTER_S = 20  # an import of a small file takes seconds; one still running then may never end
LOOP_HINT = (
    "Still running after {seconds} s. A big model takes a while; but if the file loops, or trains, when it is run, "
    'the import never ends: move that under <code>if __name__ == "__main__":</code> and import again, or Cancel.'
)


class ImportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import PyTorch model")
        self.setMinimumWidth(600)
        form = QFormLayout(self)
        self.source = QLineEdit("torchvision:resnet18")
        self.source.setPlaceholderText("path/to/model.py:ClassName or torchvision:resnet18")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_source)
        row = QHBoxLayout()
        row.addWidget(self.source)
        row.addWidget(browse)
        form.addRow("Model:", row)
        self.shape = QLineEdit("3,224,224")
        self.shape.setToolTip(
            "The shape of one input sample, without the batch: 1,28,28 for MNIST; a forward with several inputs: "
            "one shape each, separated by ';' (3,32,32;10). Token ids (int64) are found from the Embedding they enter."
        )
        form.addRow("Input shape:", self.shape)
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("optional: a state_dict .pt/.pth or .safetensors (else the model's own)")
        pick = QPushButton("Browse…")
        pick.clicked.connect(self._browse_weights)
        wrow = QHBoxLayout()
        wrow.addWidget(self.weights)
        wrow.addWidget(pick)
        form.addRow("Weights:", wrow)
        self.argv = QLineEdit()
        self.argv.setPlaceholderText("optional: the file's own command line, e.g. --dataset fake")
        self.argv.setToolTip(
            "For a file that reads its command line when it is run (argparse): the arguments it is run with, as "
            "in a terminal (the command line's --argv)."
        )
        form.addRow("Arguments:", self.argv)
        note = QLabel(WARNING)
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python file with the model", "", "Python (*.py)")
        if path:
            self.source.setText(source_for_file(path))
            self.source.setFocus()

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights", "", "Weights (*.pt *.pth *.safetensors)")
        if path:
            self.weights.setText(path)


class ImportJob(QObject):
    """One import in a child process (``python -m core import ... -o PATH``): the window stays responsive, a
    progress line counts the seconds, and Cancel stops it even when the user's file loops forever. The file runs
    in the child, so its ``sys.exit()`` or crash never reaches the window. ``finished(ok)`` once it is over."""

    finished = Signal(bool)

    def __init__(
        self,
        window: MainWindow,
        source: str,
        shape: str,
        weights: str,
        project_path: str | Path,
        argv: str = "",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(window)
        self.window, self.source, self.path = window, source.strip(), Path(project_path)
        self.weights = weights.strip()
        self.done = self.ok = self.cancelled = False
        self.message = ""
        self.clock = clock  # the seconds the progress counts (a test's own clock)
        self.started = clock()
        self.notes: list[str] = []  # what the importer noted (folded, skipped, defaults taken), shown when done
        self.process = QProcess(self)
        command = import_command(self.source, shape, weights, self.path, argv)
        self.process.setProgram(command[0])
        self.process.setArguments(command[1:])
        env = QProcessEnvironment.systemEnvironment()
        if not frozen():  # the frozen app carries core inside itself
            root = str(Path(__file__).resolve().parents[2])  # the folder that holds core/
            env.insert("PYTHONPATH", os.pathsep.join(p for p in (root, env.value("PYTHONPATH")) if p))
        self.process.setProcessEnvironment(env)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self.progress = ImportProgress(window, self.source)
        self.progress.cancel.clicked.connect(self.cancel)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.process.start()
        self.timer.start()
        self.progress.show()
        self._tick()

    def cancel(self) -> None:
        if not self.done:
            self.cancelled = True
            self.process.kill()

    def _tick(self) -> None:
        """The seconds so far; after HINT_AFTER_S, the hint the command line's --timeout gives, under the progress
        (the import goes on: a big model may just be slow)."""
        seconds = self.clock() - self.started
        self.progress.line.setText(f"Importing {self.source}… {seconds:.0f} s (the file runs in its own process)")
        if seconds >= HINT_AFTER_S and not self.progress.hint.isVisibleTo(self.progress):
            self.progress.hint.setText(LOOP_HINT.format(seconds=HINT_AFTER_S))
            self.progress.hint.setVisible(True)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(False, f"The importer could not be started ({self.process.errorString()}).")

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self.cancelled:
            self._end(False, "")
            self.window.statusBar().showMessage(f"Import of {self.source} cancelled.")
            return
        if code == 0 and status == QProcess.ExitStatus.NormalExit:
            self.notes = child_notes(bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace"))
            self._end(True, "")
            return
        errors = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        self._end(False, for_the_window(child_message(errors)) or f"The importer stopped (exit code {code}).")

    def _end(self, ok: bool, message: str) -> None:
        if self.done:
            return
        self.done, self.ok, self.message = True, ok, message
        self.timer.stop()
        opened = ok and not message and self.window.open_file(self.path)
        if opened and self.notes:  # the progress window stays, now saying what the importer noted
            self.progress.show_notes(self._imported() + " What the importer noted:", self.notes)
        else:
            self.progress.close()
        if message:
            # not the last import's "Imported …", which read as if this one had worked (tester's D)
            self.window.statusBar().showMessage(f"Could not import {self.source}.")
            self.window.show_error("Could not import the model", message)
        elif opened:
            said = f" {len(self.notes)} note{'s' * (len(self.notes) != 1)} in the import window." if self.notes else ""
            self.window.statusBar().showMessage(self._imported() + said)
        self.finished.emit(ok)

    def _imported(self) -> str:
        """Says what training will start from: without a weights file they are only the constructor's random
        starting values, which "fine-tuning" or "its weights" made sound trained (tester's D)."""
        seconds = self.clock() - self.started
        start = (
            f"training starts from the weights of {Path(self.weights).name}"
            if self.weights
            else "no weights file was given, so training starts from the network's own random starting values"
        )
        return f"Imported {self.source} in {seconds:.1f} s; {start}."


class ImportProgress(QDialog):
    """The progress line and Cancel; shown, not run modally, so the window goes on drawing. When the import is
    done and the importer noted something, it stays as the import's result: the notes and a Close button."""

    def __init__(self, parent: QWidget, source: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Importing a PyTorch model")
        layout = QVBoxLayout(self)
        self.line = QLabel(f"Importing {source}…")
        self.line.setWordWrap(True)
        layout.addWidget(self.line)
        self.hint = QLabel("")  # shown when the import runs long: the file may loop when it is run
        self.hint.setWordWrap(True)
        self.hint.setVisible(False)
        layout.addWidget(self.hint)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.setVisible(False)
        layout.addWidget(self.notes)
        self.cancel = QPushButton("Cancel")
        layout.addWidget(self.cancel)

    def show_notes(self, heading: str, notes: list[str]) -> None:
        self.setWindowTitle("Imported a PyTorch model")
        self.setMinimumWidth(560)
        self.line.setText(heading)
        self.hint.setVisible(False)
        self.notes.setText("\n".join(f"• {note}" for note in notes))
        self.notes.setVisible(True)
        self.cancel.setText("Close")
        self.cancel.clicked.connect(self.close)
        self.show()


def import_command(source: str, shape: str, weights: str, project_path: str | Path, argv: str = "") -> list[str]:
    """The child's command line: ``python -m core import ...``, or in a frozen build the app itself, whose
    ``torchcanvas import`` is the same entry (core.import_command.child_cli, as its own --timeout child)."""
    command = [*child_cli(), "import", source.strip(), "-o", str(project_path), "--replace-project"]
    if shape.strip():
        command += ["--input-shape", shape.strip()]
    if weights.strip():
        command += ["--weights", weights.strip()]
    if argv.strip():
        command.append(f"--argv={argv.strip()}")  # one argument: the file's arguments may start with -
    return command


def source_for_file(path: str) -> str:
    """The Model field for a chosen .py file: ``path:Net`` for its last nn.Module class (a file's model comes
    after its blocks; the importer lists them all when it is another), ``path:ClassName`` when none is found."""
    try:
        classes = module_classes(Path(path))
    except (OSError, SyntaxError, ValueError):
        classes = []  # the import says what is wrong with the file
    return f"{path}:{classes[-1] if classes else 'ClassName'}"


def child_notes(output: str) -> list[str]:
    """The importer's ``note: ...`` lines (what it folded, skipped or took as a default), without the prefix."""
    return [line.removeprefix("note: ").strip() for line in output.splitlines() if line.startswith("note: ")]


def child_message(errors: str) -> str:
    """The child's plain message (its ``  - cause`` lines, or its ``torchcanvas: error:`` line) without the
    heading the terminal needs."""
    causes = [line.strip()[2:] for line in errors.splitlines() if line.startswith("  - ")]
    if causes:
        return "\n".join(causes)
    said = [line.removeprefix("torchcanvas: error: ") for line in errors.splitlines() if line.startswith("torchcanvas")]
    return "\n".join(said).strip()


# The importer's advice names its command line's options; the window's dialog has fields for three of them.
WINDOW_WORDS = (
    (r"with --argv \(e\.g\. --argv ('[^']*')\)", r"in the dialog's Arguments field (e.g. \1)"),
    (r"--argv", "the Arguments field"),
    (r"with --input-shape C,H,W", "in the dialog's Input shape field as C,H,W"),
    (r"\(--input-shape '([^']*)'\)", r"(Input shape field: \1)"),
    (r"--input-shape ('[^']*'):", r"Input shape \1:"),
    (r", and --input-dtype int64 for token ids", ""),
    (r"--input-shape", "the Input shape field"),
    (r"without --weights", "with the Weights field empty"),
    (r"--weights", "the Weights field"),
)
NO_FIELD = re.compile(r"--(args)\b")


def for_the_window(message: str) -> str:
    """The importer's message in the dialog's words: its Input shape and Weights fields, not the flags a terminal
    user types (tester's D); an option the dialog has no field for is said to be the command line's."""
    for pattern, words in WINDOW_WORDS:
        message = re.sub(pattern, words, message)
    flags = sorted({f"--{m}" for m in NO_FIELD.findall(message)})
    if flags:
        message += (
            f"\n{' and '.join(flags)} {'is an option' if len(flags) == 1 else 'are options'} of the command "
            f"`torchcanvas import`: this dialog has no field for {'it' if len(flags) == 1 else 'them'}, so import "
            "such a model from a terminal."
        )
    return message


def import_into(
    window: MainWindow, source: str, shape: str, weights: str, project_path: str | Path, argv: str = ""
) -> ImportJob:
    """Start importing into ``project_path`` (the project and its initial weights) and open it when done; a
    message on failure. Returns the running job (``done``, ``ok``, ``finished``)."""
    job = ImportJob(window, source, shape, weights, project_path, argv)
    job.start()
    return job


def import_model_dialog(window: MainWindow) -> None:
    if not window.maybe_save():
        return
    dialog = ImportDialog(window)
    if not dialog.exec():
        return
    name = project_name(dialog.source.text())
    path, _ = QFileDialog.getSaveFileName(window, "Save the imported project as", f"{name}.json", "Project (*.json)")
    if path:
        import_into(window, dialog.source.text(), dialog.shape.text(), dialog.weights.text(), path, dialog.argv.text())


def project_name(source: str) -> str:
    """The project's suggested name: the class, or the file's name for ``file.py`` (the importer takes its class)."""
    text = source.strip()
    if text.endswith(".py"):
        return Path(text).stem or "imported"
    return text.rsplit(":", 1)[-1] or "imported"
