"""Autosaver and the restore offer, against a minimal stand-in document (project + path + QUndoStack)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QApplication

from core.files.project import Project, dumps, load
from core.files.recovery import RecoverySlot, list_orphans
from gui.shell.recovery import Autosaver, RestoreDialog, offer_restore, restore_into

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"


class StandInDocument(QObject):
    project_replaced = Signal()

    def __init__(self, project: Project, path: Path | None = None) -> None:
        super().__init__()
        self.project = project
        self.path = path
        self.undo_stack = QUndoStack(self)

    def set_project(self, project: Project, path: Path | None = None, stamp: object = None) -> None:
        self.undo_stack.clear()
        self.project, self.path = project, path
        self.project_replaced.emit()


class SetWidth(QUndoCommand):
    def __init__(self, document: StandInDocument, value: int) -> None:
        super().__init__(f"width {value}")
        self.document, self.value = document, value
        self.old = document.project.graph.node("n3").params.get("out_features")

    def redo(self) -> None:
        self.document.project.graph.set_param("n3", "out_features", self.value)

    def undo(self) -> None:
        self.document.project.graph.set_param("n3", "out_features", self.old)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "recovery"
    monkeypatch.setenv("TORCHCANVAS_RECOVERY_DIR", str(path))
    return path


def _recovery_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.recovery.json")) if folder.exists() else []


@pytest.mark.slow  # waits out a real 1 s autosave delay
def test_writes_once_after_a_burst_of_edits(qtbot, folder: Path, tmp_path: Path) -> None:
    user_file = tmp_path / "net.json"
    user_file.write_bytes(MLP.read_bytes())
    doc = StandInDocument(load(user_file), user_file)
    saver = Autosaver(doc, delay_ms=1000)
    writes: list[str] = []
    written_at: list[float] = []
    saver.written.connect(lambda path: (writes.append(path), written_at.append(time.monotonic())))
    for width in (11, 12, 13):
        doc.undo_stack.push(SetWidth(doc, width))
        last_edit = time.monotonic()
        time.sleep(0.2)  # no event loop between edits: a busy machine that stretched a qtbot.wait(200) let it fire
    assert writes == []  # 600 ms in: nothing yet
    qtbot.waitUntil(lambda: len(writes) == 1, timeout=10_000)
    # the timer restarts on every edit: the write comes a whole delay after the last edit (Qt's coarse timer may
    # be 5% early), not 1000 ms after the first one (about 600 ms after the last). A loaded machine only delays it.
    assert written_at[0] - last_edit >= 0.9
    qtbot.wait(300)
    assert len(writes) == 1
    record = json.loads(Path(writes[0]).read_text(encoding="utf-8"))
    assert record["project"] == dumps(doc.project) and '"out_features": 13' in record["project"]
    assert record["original_path"] == str(user_file)
    assert user_file.read_bytes() == MLP.read_bytes()  # never over the user's file
    assert Path(writes[0]).parent == folder
    saver.close()


def test_clean_save_removes_the_file_and_close_removes_everything(qtbot, folder: Path) -> None:
    doc = StandInDocument(load(MLP))
    saver = Autosaver(doc, delay_ms=20)
    doc.undo_stack.push(SetWidth(doc, 21))
    qtbot.waitUntil(lambda: len(_recovery_files(folder)) == 1, timeout=30_000)
    doc.undo_stack.setClean()  # what a successful save does
    assert _recovery_files(folder) == []
    doc.undo_stack.push(SetWidth(doc, 22))
    qtbot.waitUntil(lambda: len(_recovery_files(folder)) == 1, timeout=30_000)
    doc.undo_stack.undo()  # back to the saved state: nothing to recover
    assert _recovery_files(folder) == []
    doc.undo_stack.redo()
    qtbot.waitUntil(lambda: len(_recovery_files(folder)) == 1, timeout=30_000)
    saver.close()
    assert list(folder.iterdir()) == []
    doc.undo_stack.push(SetWidth(doc, 23))
    qtbot.wait(100)
    assert list(folder.iterdir()) == []  # closed: writes nothing more


def test_accepts_a_window_with_a_document(qtbot, folder: Path) -> None:
    class Window:
        def __init__(self) -> None:
            self.document = StandInDocument(load(MLP))

    window = Window()
    saver = Autosaver(window, delay_ms=10)
    assert saver.document is window.document
    window.document.undo_stack.push(SetWidth(window.document, 5))
    assert saver.write_now() is not None
    saver.close()


def _orphan(folder: Path, width: int, title: str) -> Project:
    """Leave a recovery file as a killed instance would: written, lock released, files still there."""
    project = load(MLP)
    project.graph.set_param("n3", "out_features", width)
    slot = RecoverySlot(folder)
    slot.write(project, "/old/place/net.json", title)
    assert slot.alive
    slot.abandon()  # the OS releases the lock when a process dies
    assert not slot.alive and list_orphans() != []
    return project


def _click_later(button_name: str) -> None:
    def click() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RestoreDialog):
            QTimer.singleShot(20, click)
            return
        getattr(dialog, button_name).click()

    QTimer.singleShot(0, click)


def test_offer_restore_returns_the_chosen_project(qtbot, folder: Path) -> None:
    expected = _orphan(folder, 61, "my net")
    _click_later("restore_button")
    restored = offer_restore(None)
    assert restored is not None
    assert dumps(restored.project) == dumps(expected)
    assert restored.original_path == "/old/place/net.json" and restored.title == "my net"
    assert len(list_orphans()) == 1  # kept until it is safely adopted


def test_not_now_keeps_and_discard_deletes(qtbot, folder: Path) -> None:
    _orphan(folder, 62, "keep me")
    _click_later("later_button")
    assert offer_restore(None) is None
    assert len(list_orphans()) == 1
    _click_later("discard_button")
    assert offer_restore(None) is None
    assert list_orphans() == []
    assert offer_restore(None) is None  # nothing to offer: no dialog at all


def test_dialog_shows_what_and_when(qtbot, folder: Path) -> None:
    _orphan(folder, 63, "first")
    _orphan(folder, 64, "second")
    dialog = RestoreDialog(list_orphans())
    qtbot.addWidget(dialog)
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(texts) == 2 and all("/old/place/net.json" in t and "autosaved 20" in t for t in texts)


def test_restore_into_adopts_then_drops_the_orphan(qtbot, folder: Path) -> None:
    expected = _orphan(folder, 65, "adopt")
    doc = StandInDocument(load(MLP))
    saver = Autosaver(doc, delay_ms=10_000)
    _click_later("restore_button")
    restored = offer_restore(None, autosaver=saver)
    assert restored is not None
    restore_into(doc, restored, saver)
    assert dumps(doc.project) == dumps(expected)
    assert not doc.undo_stack.isClean()  # closing will ask to save
    assert list_orphans() == []
    own = _recovery_files(folder)
    assert own == [saver.recovery_path]
    assert json.loads(own[0].read_text(encoding="utf-8"))["project"] == dumps(expected)
    saver.close()


def _crash_after_an_edit(qtbot, folder: Path, path: Path):
    """Open ``path`` in a real Document, edit it, autosave, and die (the lock goes, the recovery file stays)."""
    from gui.shell.document import Document

    doc = Document()
    doc.open(path)
    saver = Autosaver(doc, delay_ms=10_000)
    doc.undo_stack.push(SetWidth(doc, 66))
    written = saver.write_now()
    assert written is not None
    saver.abandon()
    assert written.exists()
    doc.undo_stack.push(SetWidth(doc, 67))
    assert saver.write_now() is None  # the crashed instance writes no more


@pytest.mark.parametrize("changed_meanwhile", [False, True])
def test_a_restored_document_knows_whether_its_file_changed_since(qtbot, folder: Path, tmp_path, changed_meanwhile):
    """After a crash the restored work belongs to its file again: a save asks when someone changed the file since
    the crashed window read it (it was overwritten silently before), and not when nobody did."""
    from gui.shell.document import Document

    path = tmp_path / "net.json"
    path.write_bytes(MLP.read_bytes())
    _crash_after_an_edit(qtbot, folder, path)
    if changed_meanwhile:
        other = load(path)
        other.graph.set_param("n3", "out_features", 7)
        path.write_text(dumps(other), encoding="utf-8")
    doc = Document()
    saver = Autosaver(doc, delay_ms=10_000)
    _click_later("restore_button")
    restored = offer_restore(None, autosaver=saver)
    assert restored is not None
    restore_into(doc, restored, saver)
    assert doc.path == path
    assert doc.changed_on_disk() is changed_meanwhile
    if not changed_meanwhile:  # a change made after the restore is seen too
        path.write_text(path.read_text(encoding="utf-8").replace('"out_features": 10', '"out_features": 9'))
        assert doc.changed_on_disk()
    saver.close()
