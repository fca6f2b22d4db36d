"""Opening, saving and restoring onto files that are not project files (issue 22): a FIFO, ``/dev/zero``, a file
that became a FIFO after it was opened. The window's "changed on disk" stamp used to open and hash the file
before the safe loader looked at it, so each of these hung the window forever; now each gives one message.

Each test has a timeout: before the fix they block (a FIFO's open waits for a writer, ``/dev/zero`` never ends),
and a blocked test must fail, not stall the suite. Every message box is answered by ``_no_modal_boxes``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from core.files import project as project_io
from gui.commands.graph import set_param
from gui.shell.document import DiskStamp, disk_stamp
from gui.shell.mainwindow import MainWindow
from gui.shell.recovery import restored_stamp

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing"),
    pytest.mark.timeout(30, method="signal"),
]


def _window(qtbot, tmp_path: Path) -> MainWindow:
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win


def _fifo(tmp_path: Path, name: str = "net.json") -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def test_opening_a_fifo_says_so_instead_of_hanging(qtbot, tmp_path: Path, _no_modal_boxes) -> None:
    win = _window(qtbot, tmp_path)
    fifo = _fifo(tmp_path)
    assert win.open_file(fifo) is False
    assert len(_no_modal_boxes) == 1 and _no_modal_boxes[0][0] == "warning"
    assert str(fifo) in _no_modal_boxes[0][1] and "pipe (FIFO)" in _no_modal_boxes[0][1]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_opening_dev_zero_says_so_instead_of_hashing_forever(qtbot, tmp_path: Path, _no_modal_boxes) -> None:
    win = _window(qtbot, tmp_path)
    assert win.open_file("/dev/zero") is False
    assert len(_no_modal_boxes) == 1 and "not a regular file" in _no_modal_boxes[0][1]


def test_saving_onto_a_file_that_became_a_fifo_refuses_in_plain_words(qtbot, tmp_path: Path, _no_modal_boxes) -> None:
    path = tmp_path / "net.json"
    path.write_bytes(MLP.read_bytes())
    win = _window(qtbot, tmp_path)
    assert win.open_file(path)
    linear = next(n for n in win.document.graph.nodes if n.type == "Linear")
    win.document.undo_stack.push(set_param(win.document.graph, linear.id, "out_features", 17))
    path.unlink()
    os.mkfifo(path)  # another program put a pipe where the project was
    assert win.save() is False
    assert len(_no_modal_boxes) == 1 and _no_modal_boxes[0][0] == "warning"
    message = _no_modal_boxes[0][1]
    assert str(path) in message and "not a regular file" in message and "Traceback" not in message
    assert win.document.modified and path.is_fifo()


def test_the_stamp_of_a_special_or_huge_file_is_none_and_a_restore_does_not_hang(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    assert disk_stamp(fifo) is None
    assert restored_stamp(str(fifo), "0" * 64) is None  # crash restore of a project whose file became a pipe
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(project_io.MAX_FILE_BYTES + 1)  # sparse: no disk space used
    assert disk_stamp(huge) is None
    small = tmp_path / "small.json"
    small.write_bytes(b"{}")
    stamp = disk_stamp(small)
    assert isinstance(stamp, DiskStamp) and stamp.size == 2
    assert stamp.sha256 == hashlib.sha256(b"{}").hexdigest()


def test_saving_a_project_opened_through_a_link_saves_the_file_it_names_and_keeps_the_link(
    qtbot, tmp_path: Path, tmp_path_factory, _no_modal_boxes
) -> None:
    """The user opened the file the link names, so Save writes that file (the link stays a link); only a link
    that a writer is merely handed (an export's target) is refused."""
    real = tmp_path_factory.mktemp("elsewhere") / "net.json"
    real.write_bytes(MLP.read_bytes())
    link = tmp_path / "net.json"
    link.symlink_to(real)
    win = _window(qtbot, tmp_path)
    assert win.open_file(link)
    linear = next(n for n in win.document.graph.nodes if n.type == "Linear")
    win.document.undo_stack.push(set_param(win.document.graph, linear.id, "out_features", 17))
    assert win.save() is True, _no_modal_boxes
    assert not _no_modal_boxes and link.is_symlink() and not win.document.modified
    saved = project_io.load(real)
    assert next(n for n in saved.graph.nodes if n.type == "Linear").params["out_features"] == 17
