"""Redo answers both usual keys. Where the platform's Redo key is Ctrl+Y (Windows, and the offscreen platform),
the action held Ctrl+Y twice: Qt called the shortcut ambiguous and neither redid anything."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

CTRL = Qt.KeyboardModifier.ControlModifier


def test_ctrl_y_and_ctrl_shift_z_both_redo(window, qtbot):
    keys = [s.toString() for s in window.action_map["redo"].shortcuts()]
    assert len(keys) == len(set(keys)) and {"Ctrl+Y", "Ctrl+Shift+Z"} <= set(keys), keys
    graph, stack = window.document.graph, window.document.undo_stack
    count = len(graph.nodes)
    window.editor.add_layer("ReLU", (0.0, 500.0))
    window.view.setFocus()
    for key, modifiers in ((Qt.Key.Key_Y, CTRL), (Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)):
        stack.undo()
        assert len(graph.nodes) == count
        QTest.keyClick(window.view, key, modifiers)
        assert len(graph.nodes) == count + 1, key
    stack.setClean()
