"""A float parameter that may be empty (BatchNorm's momentum: empty is a cumulative average) gets a text field:
a spin box cannot show "empty", and setting None into one raised TypeError when such a node was selected."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit

from core.model.catalog import LAYERS
from gui.panels.param_editor import ParamEditor


def test_an_empty_momentum_shows_and_commits_as_empty(qtbot) -> None:
    committed: list[Any] = []
    editor = ParamEditor(LAYERS["BatchNorm2d"].param("momentum"), committed.append)
    qtbot.addWidget(editor.widget)
    assert isinstance(editor.widget, QLineEdit)
    editor.set_value(None)
    assert editor.widget.text() == ""
    editor.set_value(0.01)
    assert editor.widget.text() == "0.01"
    editor.widget.setText("")
    editor.widget.editingFinished.emit()
    editor.widget.setText("0.2")
    editor.widget.editingFinished.emit()
    assert committed == [None, 0.2]
