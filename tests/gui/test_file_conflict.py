"""Saving never silently drops an edit made elsewhere, and a failed Save As never moves the document.

Two windows on one file: the second save asks (reload, overwrite, save as) instead of writing over the first
window's edit. A Save As that fails (a missing folder, a name too long, a symbolic-link loop) shows a message and
keeps the old path and title, so Save still works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from core.files import project as project_io
from gui.commands.graph import set_param
from gui.shell import file_dialogs
from gui.shell.mainwindow import MainWindow

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"


def open_window(qtbot, tmp_path: Path, path: Path, tag: str) -> MainWindow:
    settings = QSettings(str(tmp_path / f"settings-{tag}.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    assert win.open_file(path)
    return win


def set_width(win: MainWindow, width: int) -> None:
    doc = win.document
    linear = next(n for n in doc.graph.nodes if n.type == "Linear")
    doc.undo_stack.push(set_param(doc.graph, linear.id, "out_features", width))


def width_on_disk(path: Path) -> int:
    graph = project_io.load(path).graph
    return next(n for n in graph.nodes if n.type == "Linear").params["out_features"]


@pytest.fixture
def two_windows(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    path.write_bytes(MLP.read_bytes())
    first, second = open_window(qtbot, tmp_path, path, "a"), open_window(qtbot, tmp_path, path, "b")
    set_width(second, 23)
    asked: list[Path] = []
    monkeypatch.setattr(file_dialogs, "ask_file_changed", lambda parent, p: asked.append(p) or "cancel")
    assert second.save() and asked == []  # nobody else changed it: no question
    set_width(first, 17)
    return path, first, second, asked


def answer(monkeypatch, asked: list[Path], choice: str) -> None:
    monkeypatch.setattr(file_dialogs, "ask_file_changed", lambda parent, p: asked.append(p) or choice)


def test_cancel_keeps_the_other_windows_edit_and_ours(two_windows):
    path, first, _second, asked = two_windows
    assert first.save() is False
    assert asked == [path]
    assert width_on_disk(path) == 23 and first.document.modified


def test_overwrite_writes_ours_and_asks_no_more(two_windows, monkeypatch):
    path, first, _second, asked = two_windows
    answer(monkeypatch, asked, "overwrite")
    assert first.save() is True
    assert width_on_disk(path) == 17 and not first.document.modified
    set_width(first, 19)
    assert first.save() is True and len(asked) == 1  # our own save is not a change made elsewhere
    assert width_on_disk(path) == 19


def test_reload_takes_the_file_as_it_is_now(two_windows, monkeypatch):
    path, first, _second, asked = two_windows
    answer(monkeypatch, asked, "reload")
    assert first.save() is False
    linear = next(n for n in first.document.graph.nodes if n.type == "Linear")
    assert linear.params["out_features"] == 23 and not first.document.modified
    assert width_on_disk(path) == 23


def test_save_as_writes_elsewhere_and_leaves_the_file(two_windows, monkeypatch, tmp_path):
    path, first, _second, asked = two_windows
    answer(monkeypatch, asked, "save_as")
    other = tmp_path / "mine.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(other), ""))
    assert first.save() is True
    assert width_on_disk(path) == 23 and width_on_disk(other) == 17
    assert first.document.path == other


def test_a_touched_file_with_the_same_bytes_is_not_a_change(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    path.write_bytes(MLP.read_bytes())
    win = open_window(qtbot, tmp_path, path, "a")
    asked: list[Path] = []
    answer(monkeypatch, asked, "cancel")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    set_width(win, 31)
    assert win.save() is True and asked == []
    assert width_on_disk(path) == 31


def failing_targets(tmp_path: Path) -> dict[str, Path]:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop.name)  # a link to itself
    return {
        "missing folder": tmp_path / "no such folder" / "x.json",
        "name of 300 characters": tmp_path / ("n" * 295 + ".json"),
        "symbolic-link loop": loop,
        "link loop inside the folder path": loop / "x.json",
    }


def test_failed_save_as_keeps_the_old_path_title_and_a_working_save(qtbot, tmp_path, _no_modal_boxes):
    path = tmp_path / "net.json"
    path.write_bytes(MLP.read_bytes())
    win = open_window(qtbot, tmp_path, path, "a")
    set_width(win, 29)
    title = win.windowTitle()
    for what, target in failing_targets(tmp_path).items():
        _no_modal_boxes.clear()
        assert win.save_as(target) is False, what
        assert win.document.path == path, what
        assert win.windowTitle() == title, what
        assert len(_no_modal_boxes) == 1 and _no_modal_boxes[0][0] == "warning", what
        assert "Traceback" not in _no_modal_boxes[0][1], what
    assert win.document.modified
    assert win.save() is True  # Ctrl+S still goes to the old file
    assert width_on_disk(path) == 29 and not win.document.modified
