"""Menus, toolbar and keyboard shortcuts of the main window, in one table-like place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from core.files.export_formats import EXPORT_FORMATS
from gui.panels.gallery import new_from_pretrained
from gui.training.actions import export_from_window

if TYPE_CHECKING:
    from gui.shell.mainwindow import MainWindow

Key = QKeySequence.StandardKey


Shortcut = QKeySequence | QKeySequence.StandardKey | str | list[QKeySequence]


def _action(window: MainWindow, text: str, slot: object, shortcut: Shortcut | None = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        else:
            action.setShortcut(shortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]  # drop the checked flag
    window.addAction(action)  # shortcuts work wherever the focus is
    return action


def _import_dialog(window: MainWindow) -> None:
    # Deferred for start-up: the dialog's module (about 15 ms) loads when it is asked for; the import runs in a child.
    from gui.shell.import_dialog import import_model_dialog

    import_model_dialog(window)


def _new_pretrained(window: MainWindow) -> None:
    new_from_pretrained(window)


def build_actions(window: MainWindow) -> dict[str, QAction]:
    w, ed, view = window, window.editor, window.view
    stack = window.document.undo_stack
    a: dict[str, QAction] = {
        "new": _action(w, "&New", w.new_project, Key.New, "Start an empty network"),
        "open": _action(w, "&Open…", w.open_dialog, Key.Open, "Open a project file"),
        "example": _action(w, "Open &Example…", w.open_example_dialog, "Ctrl+E", "Open one of the example networks"),
        "import_model": _action(w, "&Import PyTorch Model…", lambda: _import_dialog(w), tip="A model from code"),
        "new_pretrained": _action(
            w, "New from &Pretrained Network…", lambda: _new_pretrained(w), tip="An ImageNet classifier, its weights"
        ),
        "save": _action(w, "&Save", w.save, Key.Save, "Save the project"),
        "save_as": _action(w, "Save &As…", w.save_as_dialog, Key.SaveAs, "Save the project under a new name"),
        "export": _action(w, "E&xport Code…", w.export_code_dialog, "Ctrl+Shift+E", "Save the model as a .py file"),
        "open_data": _action(w, "&Open…", w.open_data_dialog, tip="Your own data: a table, text, .npz or IDX file"),
        "open_data_folder": _action(
            w, "Open &Folder…", lambda: w.open_data_dialog(folder=True), tip="A folder with one sub-folder per class"
        ),
        "quit": _action(w, "&Quit", w.close, Key.Quit),
        "cut": _action(w, "Cu&t", ed.cut_selection, Key.Cut),
        "copy": _action(w, "&Copy", ed.copy_selection, Key.Copy),
        "paste": _action(w, "&Paste", ed.paste, Key.Paste),
        "duplicate": _action(w, "D&uplicate", ed.duplicate_selection, "Ctrl+D"),
        "delete": _action(w, "&Delete", ed.delete_selection, [QKeySequence(Key.Delete), QKeySequence("Backspace")]),
        "select_all": _action(w, "Select &All", ed.select_all, Key.SelectAll),
        "zoom_in": _action(w, "Zoom &In", view.zoom_in, [QKeySequence(Key.ZoomIn), QKeySequence("Ctrl+=")]),
        "zoom_out": _action(w, "Zoom &Out", view.zoom_out, Key.ZoomOut),
        "fit": _action(w, "&Fit to View", view.fit_all, "F", "Show the whole network"),
        "layout": _action(w, "Auto-&layout", ed.auto_layout, "Ctrl+L", "Arrange the layers left to right"),
        "layout_tb": _action(w, "Auto-layout Top to &Bottom", lambda: ed.auto_layout("tb"), "Ctrl+Shift+L"),
    }
    undo = stack.createUndoAction(w, "&Undo")
    undo.setShortcut(Key.Undo)
    redo = stack.createRedoAction(w, "&Redo")
    # the platform's Redo key(s) plus both usual ones, each once: a key listed twice is an ambiguous shortcut that
    # does nothing (Windows' Redo key is Ctrl+Y itself)
    keys = [*QKeySequence.keyBindings(Key.Redo), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
    redo.setShortcuts(list({k.toString(): k for k in keys}.values()))
    for action, word in ((undo, "Undo"), (redo, "Redo")):
        # the stack renames the action after every edit ("Undo Use dataset npz:/a/long/path"): the toolbar shows
        # the one word, so its buttons keep their size and place, and the full text as the tooltip (QAction's
        # tooltip follows the text); the Edit menu keeps the full text
        action.setIconText(word)
        w.addAction(action)
    a["undo"], a["redo"] = undo, redo
    snap = QAction("Snap to &Grid", w)
    snap.setCheckable(True)
    snap.toggled.connect(window.scene.set_snap_to_grid)
    a["snap"] = snap
    return a


def _export_menu(window: MainWindow, menu: QMenu, a: dict[str, QAction]) -> None:
    """File > Export: one entry per ``core.files.export_formats`` format (a["export_<id>"]); the model code's entry is
    the toolbar's Export Code action (Ctrl+Shift+E)."""
    for fmt in EXPORT_FORMATS.values():
        if fmt.id == "model":
            action = a["export"]
        else:
            action = _action(
                window,
                f"Export {fmt.label}…",
                lambda f=fmt.id: export_from_window(window, f),
                tip=fmt.help,
            )
        a[f"export_{fmt.id}"] = action
        menu.addAction(action)


def build_menus(window: MainWindow, a: dict[str, QAction]) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    file.addActions([a["new"], a["new_pretrained"], a["open"], a["example"], a["import_model"]])
    window.recent_menu = QMenu("Open &Recent", window)
    file.addMenu(window.recent_menu)
    file.addSeparator()
    file.addActions([a["save"], a["save_as"]])
    _export_menu(window, file.addMenu("E&xport"), a)
    file.addSeparator()
    file.addAction(a["quit"])
    edit = bar.addMenu("&Edit")
    edit.addActions([a["undo"], a["redo"]])
    edit.addSeparator()
    edit.addActions([a["cut"], a["copy"], a["paste"], a["duplicate"], a["delete"]])
    edit.addSeparator()
    edit.addAction(a["select_all"])
    view = bar.addMenu("&View")
    view.addActions([a["zoom_in"], a["zoom_out"], a["fit"]])
    view.addSeparator()
    view.addActions([a["layout"], a["layout_tb"], a["snap"]])
    view.addSeparator()
    window.view_menu = view
    data = bar.addMenu("&Data")
    data.addActions([a["open_data"], a["open_data_folder"]])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("How to use the canvas", window.show_help)
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("main_toolbar")
    toolbar.setMovable(False)
    for key in ("new", "open", "save", None, "undo", "redo", None, "fit", "layout", None, "export"):
        if key is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(a[key])
    window.addToolBar(toolbar)
