"""What the training dashboard needs of the window it lives in, as one typed value the window builds and passes
(``MainWindow.dashboard_host()``), instead of the dashboard looking the window's members up by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar, QWidget

if TYPE_CHECKING:
    from gui.shell.document import Document

AddDock = Callable[[str, QWidget, Qt.DockWidgetArea, str], QDockWidget]


@dataclass(frozen=True)
class DashboardHost:
    """``add_dock(title, widget, area, name)`` docks a widget (and lists it in the View menu); ``lock_editing(on)``
    makes the network read-only while a run trains a snapshot of it; ``code_dock`` is the dock the Training dock is
    tabbed with; ``toolbar`` gets the ▶ Train action."""

    window: QMainWindow
    document: Document | None  # None: the dashboard follows the project set_project() gives it
    add_dock: AddDock
    lock_editing: Callable[[bool], None]
    code_dock: QDockWidget | None = None
    toolbar: QToolBar | None = None
