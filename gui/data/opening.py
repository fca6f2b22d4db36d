"""How the training form opens the user's own data: the file dialog's answer becomes a spec, the data wizard shows
what it holds, and its "Use this data" hands the spec back to the form (``panel.choose``: one undo step). A path that
is no kind of data is said under the dataset list, never in a dialog."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from core.errors import TorchCanvasError
from gui.data.sources import FILE_FILTER, spec_for_path
from gui.data.wizard import DataWizard


def ask_data_path(parent: QWidget, folder: bool, start: str = "") -> str:
    """A data file (a table, text, .npz, IDX) or, with ``folder``, a folder of class sub-folders; '' when none was
    chosen (tests replace this; with no screen to answer on nothing is chosen, so nothing waits)."""
    if QApplication.platformName() in ("offscreen", "minimal"):
        return ""
    if folder:
        return QFileDialog.getExistingDirectory(parent, "Open a folder of data (one sub-folder per class)", start)
    path, _ = QFileDialog.getOpenFileName(parent, "Open a data file", start, FILE_FILTER)
    return path


def ask_and_open(panel: Any, folder: bool) -> DataWizard | None:
    """The list's 'Open a data file…' / 'Open a data folder…': ask (``ask_data_path``), then open."""
    path = ask_data_path(panel, folder=folder)
    return open_data_path(panel, path) if path else None


def open_data_path(panel: Any, path: str) -> DataWizard | None:
    """The wizard on ``path`` (opened with ``open()``: window-modal, nothing waits on it), or None when the path is
    no kind of data (the reason goes under the list). A wizard already open is closed first."""
    try:
        spec = spec_for_path(path)
    except TorchCanvasError as exc:
        panel.show_data_note(str(exc))
        return None
    panel.show_data_note("")
    if panel.wizard is not None:
        panel.wizard.close()
    settings = panel.project.training if panel.project is not None else None
    panel.wizard = DataWizard(spec, settings, panel)
    panel.wizard.chosen.connect(panel.choose)
    panel.wizard.open()  # "Use this data" or Cancel answers
    return panel.wizard  # type: ignore[no-any-return]
