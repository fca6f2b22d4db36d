"""Fixtures for the editor tests: a main window with its settings in a temporary file, and message boxes that
answer at once instead of waiting for a click (a modal box would hang an offscreen test)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from gui.shell.mainwindow import MainWindow


@pytest.fixture(autouse=True)
def _no_modal_boxes(monkeypatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def record(kind: str, answer: QMessageBox.StandardButton):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, text))
            return answer

        return box

    monkeypatch.setattr(QMessageBox, "question", record("question", QMessageBox.StandardButton.Discard))
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, record(kind, QMessageBox.StandardButton.Ok))
    return shown


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.open_example()
    win.show()
    qtbot.waitExposed(win)
    win.view.fit_all()
    return win


@pytest.fixture
def empty_window(window: MainWindow) -> MainWindow:
    window.document.new()
    return window


@pytest.fixture(autouse=True, scope="session")
def _release_clipboard_at_exit():
    """pytest-qt's application never quits, so drop our clipboard data before Qt tears down (see
    gui.canvas.clipboard.release_clipboard: otherwise the process segfaults at exit after a copy)."""
    yield
    from gui.canvas.clipboard import release_clipboard

    release_clipboard()
