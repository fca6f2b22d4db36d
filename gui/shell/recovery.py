"""Autosave and crash recovery in the editor: the Qt side of ``core.files.recovery``.

``Autosaver(document_or_window)`` writes this instance's recovery file about two seconds after the last edit
(a single-shot timer restarted by every change of the undo stack), never over the user's file, removes it when
the document becomes clean (saved) and when the app closes cleanly. ``offer_restore(parent)`` shows the work left
by instances that died (what and when) and returns the one the user picks.

The document is duck-typed: it has ``.project``, ``.path`` and ``.undo_stack`` (a QUndoStack); a window is
accepted too when it has ``.document``. Optional ``project_replaced`` (New/Open) and ``display_name`` are used
when present.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import TorchCanvasError
from core.files.project import Project
from core.files.recovery import Recovery, RecoverySlot, discard, list_orphans
from gui.shell.document import DiskStamp, disk_stamp

if TYPE_CHECKING:
    from gui.shell.mainwindow import MainWindow

DELAY_MS = 2000
ENV_DELAY = "TORCHCANVAS_AUTOSAVE_MS"  # tests shorten the delay


class AutosavedDocument(Protocol):
    """What autosave reads of a document (the shell's ``Document``, or a test's stand-in); ``path``,
    ``display_name``, ``disk`` and ``project_replaced`` are used where the document has them."""

    @property
    def project(self) -> Project: ...
    @property
    def undo_stack(self) -> QUndoStack: ...


class HoldsDocument(Protocol):
    """A main window: autosave follows its document."""

    @property
    def document(self) -> AutosavedDocument: ...


def _document_of(target: AutosavedDocument | HoldsDocument) -> AutosavedDocument:
    if hasattr(target, "undo_stack"):
        return cast("AutosavedDocument", target)
    return cast("HoldsDocument", target).document


class Autosaver(QObject):
    """Writes a recovery file shortly after each edit; removes it on a clean save or close."""

    written = Signal(str)  # the recovery file's path
    failed = Signal(str)  # a plain message (the app keeps running; autosave is best effort)

    def __init__(
        self,
        document_or_window: AutosavedDocument | HoldsDocument,
        *,
        delay_ms: int | None = None,
        slot: RecoverySlot | None = None,
        directory: str | Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = _document_of(document_or_window)
        self._slot = slot
        self._directory = directory
        self._closed = False
        if delay_ms is None:
            delay_ms = int(os.environ.get(ENV_DELAY, DELAY_MS))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.write_now)
        stack = self.document.undo_stack
        stack.indexChanged.connect(self._edited)
        stack.cleanChanged.connect(self._clean_changed)
        replaced = getattr(self.document, "project_replaced", None)
        if replaced is not None:
            replaced.connect(self._edited)

    @property
    def recovery_path(self) -> Path | None:
        return self._slot.path if self._slot is not None else None

    def _edited(self, *args: Any) -> None:
        if not self._closed:
            self.timer.start()  # restarts: writes DELAY_MS after the last of a burst of edits

    def _clean_changed(self, clean: bool) -> None:
        if clean:  # saved (or undone back to the saved state): nothing to recover
            self.timer.stop()
            if self._slot is not None:
                self._slot.discard()
        else:
            self._edited()

    def write_now(self) -> Path | None:
        """Write the recovery file now if there is unsaved work (or remove it if there is none)."""
        self.timer.stop()
        if self._closed:
            return None
        if self.document.undo_stack.isClean():
            if self._slot is not None:
                self._slot.discard()
            return None
        try:
            if self._slot is None:
                self._slot = RecoverySlot(self._directory)
            path = getattr(self.document, "path", None)
            title = getattr(self.document, "display_name", None) or self.document.project.name
            stamp = getattr(self.document, "disk", None)
            digest = stamp.sha256 if stamp is not None else None
            written = self._slot.write(self.document.project, path, str(title), digest)
        except (TorchCanvasError, OSError) as exc:
            self.failed.emit(f"Autosave failed: {exc}")
            return None
        self.written.emit(str(written))
        return written

    def close(self) -> None:
        """A clean close: the recovery file and its lock go away."""
        self.timer.stop()
        self._closed = True
        if self._slot is not None:
            self._slot.close()

    def abandon(self) -> None:
        """Stop autosaving and leave the recovery file as a crashed instance would (see RecoverySlot.abandon)."""
        self.timer.stop()
        self._closed = True
        if self._slot is not None:
            self._slot.abandon()


@dataclass
class Restored:
    """What the user chose to restore."""

    project: Project
    original_path: str | None
    title: str
    saved_at: str
    recovery: Recovery


class RestoreDialog(QDialog):
    """Lists unsaved work from instances that ended unexpectedly; Restore / Discard / Not now."""

    def __init__(self, orphans: list[Recovery], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore unsaved work?")
        self.orphans = orphans
        self.choice: str = "later"
        layout = QVBoxLayout(self)
        count = "a project" if len(orphans) == 1 else f"{len(orphans)} projects"
        layout.addWidget(
            QLabel(f"TorchCanvas ended unexpectedly with unsaved changes in {count}. Restore the autosaved work?")
        )
        self.list = QListWidget(self)
        for recovery in orphans:
            where = recovery.original_path or "never saved"
            item = QListWidgetItem(f"{recovery.title} — {where} — autosaved {recovery.when()}")
            item.setToolTip(str(recovery.path))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(self)
        self.restore_button = QPushButton("Restore", self)
        self.discard_button = QPushButton("Discard", self)
        self.later_button = QPushButton("Not now", self)
        self.restore_button.setDefault(True)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.restore_button.clicked.connect(lambda: self._finish("restore"))
        self.discard_button.clicked.connect(lambda: self._finish("discard"))
        self.later_button.clicked.connect(lambda: self._finish("later"))
        self.list.itemDoubleClicked.connect(lambda _item: self._finish("restore"))
        layout.addWidget(buttons)

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.done(QDialog.DialogCode.Accepted if choice == "restore" else QDialog.DialogCode.Rejected)

    def selected(self) -> Recovery:
        return self.orphans[max(0, self.list.currentRow())]


def offer_restore(
    parent: QWidget | None = None,
    *,
    orphans: list[Recovery] | None = None,
    directory: str | Path | None = None,
    autosaver: Autosaver | None = None,
) -> Restored | None:
    """Ask whether to restore work left by a crashed instance; the chosen project, or None.

    "Discard" deletes the selected recovery file; "Not now" keeps them all for the next start. After a restore
    the orphan is deleted only once ``autosaver`` (if given) has written the project into this instance's slot.
    """
    if orphans is None:
        orphans = list_orphans(directory)
    if not orphans:
        return None
    dialog = RestoreDialog(orphans, parent)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.exec()
    if dialog.choice == "discard":
        _discard_quietly(dialog.selected())
        return None
    if dialog.choice != "restore":
        return None
    chosen = dialog.selected()
    try:
        project = chosen.project()
    except TorchCanvasError as exc:
        QMessageBox.warning(parent, "Restore unsaved work", f"The autosaved work could not be read:\n{exc}")
        return None
    return Restored(project, chosen.original_path, chosen.title, chosen.when(), chosen)


def restore_into(document: Any, restored: Restored, autosaver: Autosaver | None = None) -> None:
    """Open the restored project as unsaved work (so closing asks to save), adopt it, then drop the orphan."""
    path = restored.original_path if restored.original_path and Path(restored.original_path).exists() else None
    if hasattr(document, "set_project"):
        document.set_project(restored.project, path, restored_stamp(path, restored.recovery.original_sha256))
    else:
        document.project, document.path = restored.project, path
    document.undo_stack.resetClean()  # modified: nothing of it is in a project file yet
    if autosaver is not None and autosaver.write_now() is None:
        return  # keep the orphan: our own copy could not be written
    _discard_quietly(restored.recovery)


def restored_stamp(path: str | None, original_sha256: str | None) -> DiskStamp | None:
    """The stamp a restored document keeps for its file: the file as it is now when it still holds what the
    crashed instance last read or wrote (so later changes are seen), and one that no longer matches when someone
    changed it since (so the first save asks: reload, overwrite or save as)."""
    if path is None:
        return None
    now = disk_stamp(path)
    if now is None or original_sha256 is None or now.sha256 == original_sha256:
        return now
    return DiskStamp(-1, -1, original_sha256)


def _discard_quietly(recovery: Recovery) -> None:
    try:
        discard(recovery)
    except (TorchCanvasError, OSError):
        pass


def install(window: MainWindow) -> Autosaver:
    """Wire autosave and the restore offer into a shown main window (``window.document`` is the document).

    The offer is made once the event loop runs; the recovery file goes away on a clean quit.
    """
    from PySide6.QtWidgets import QApplication

    autosaver = Autosaver(window, parent=window)
    status_bar = getattr(window, "statusBar", None)
    if callable(status_bar):  # a failed autosave is worth a line, never a dialog
        autosaver.failed.connect(lambda message: status_bar().showMessage(message, 8000))
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(autosaver.close)

    def offer() -> None:
        restored = offer_restore(window, autosaver=autosaver)
        if restored is not None:
            restore_into(window.document, restored, autosaver)

    QTimer.singleShot(0, offer)
    return autosaver
