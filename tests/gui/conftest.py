"""Fixtures for the editor tests: a main window with its settings in a temporary file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings

from gui.mainwindow import MainWindow


@pytest.fixture
def window(qtbot, tmp_path) -> Iterator[MainWindow]:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.open_example()
    win.show()
    qtbot.waitExposed(win)
    win.view.fit_all()
    yield win
    win.document.undo_stack.setClean()  # closing must not ask in tests


@pytest.fixture
def empty_window(window: MainWindow) -> MainWindow:
    window.document.new()
    return window
