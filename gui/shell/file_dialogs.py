"""The window's file memory and questions: the recent-files list (kept in QSettings) and what to do with a file
that changed on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QMenu, QMessageBox, QWidget

MAX_RECENT = 8


def recent_paths(settings: QSettings) -> list[str]:
    value = settings.value("recent_files", [])
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []
    return [str(v) for v in items]


def add_recent(settings: QSettings, path: str | Path) -> None:
    """Put ``path`` first (once), keep MAX_RECENT, and remember its folder for the next file dialog."""
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_paths(settings) if p != path]
    settings.setValue("recent_files", items[:MAX_RECENT])
    settings.setValue("last_dir", str(Path(path).parent))


def last_dir(settings: QSettings) -> str:
    return str(settings.value("last_dir", str(Path.home())))


def fill_recent_menu(menu: QMenu, paths: list[str], open_path: Callable[[str], object]) -> None:
    menu.clear()
    for path in paths:
        action = QAction(Path(path).name, menu)
        action.setToolTip(path)
        action.triggered.connect(lambda _=False, p=path: open_path(p))
        menu.addAction(action)
    menu.setEnabled(bool(paths))


def ask_file_changed(parent: QWidget, path: Path) -> str:
    """The file was changed elsewhere since it was opened or saved here: 'reload', 'overwrite', 'save_as' or
    'cancel' (tests replace this; with no screen to answer on it is 'cancel', so nothing is lost)."""
    from PySide6.QtWidgets import QApplication

    if QApplication.platformName() in ("offscreen", "minimal"):
        return "cancel"
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("File changed on disk")
    box.setText(f"{path.name} was changed by another window or program since you opened or saved it here.")
    box.setInformativeText(
        "Reload it (your changes here are dropped), overwrite it with your version (the other changes are lost), "
        "or save your version under another name?"
    )
    choices: dict[QAbstractButton, str] = {
        box.addButton("Reload", QMessageBox.ButtonRole.DestructiveRole): "reload",
        box.addButton("Overwrite", QMessageBox.ButtonRole.AcceptRole): "overwrite",
        box.addButton("Save As…", QMessageBox.ButtonRole.ActionRole): "save_as",
    }
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return choices.get(clicked, "cancel") if clicked is not None else "cancel"
