"""The toolbar's Undo and Redo keep their size (issue 22): they showed the whole command text ("Undo Use dataset
npz:/long/path…"), so every toolbar button after them moved at each edit."""

from __future__ import annotations

from PySide6.QtWidgets import QToolBar


def test_undo_and_redo_buttons_keep_their_size_and_tell_the_command_as_a_tooltip(window, qtbot):
    toolbar = window.findChild(QToolBar, "main_toolbar")
    undo, redo = window.action_map["undo"], window.action_map["redo"]
    undo_button, redo_button = toolbar.widgetForAction(undo), toolbar.widgetForAction(redo)
    fit_button = toolbar.widgetForAction(window.action_map["fit"])

    def places() -> list[tuple[int, int]]:
        return [(b.x(), b.width()) for b in (undo_button, redo_button, fit_button)]

    window.editor.add_layer("ReLU", (0.0, 500.0))
    qtbot.wait(10)
    before = places()
    node = window.document.graph.nodes[-1]
    long_name = "a_rather_long_layer_name_that_goes_on_and_on"
    assert window.editor.rename(node.id, long_name) is None
    qtbot.wait(10)
    assert long_name in undo.text()  # the Edit menu keeps the whole text
    assert undo_button.text() == "Undo"
    assert long_name in undo_button.toolTip()
    assert places() == before
    window.document.undo_stack.undo()
    qtbot.wait(10)
    assert redo_button.text() == "Redo" and long_name in redo_button.toolTip()
    assert places() == before
