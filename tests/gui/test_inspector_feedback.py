"""Typing a wrong value into an inspector field explains it at once, right under that field: the message is
the one for what was typed (never the previous error's), and a number out of range is refused out loud
(a spin box must not silently turn -5 into 5)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox

from core.cli import EXAMPLES_DIR


def select_conv(window):
    window.open_example(EXAMPLES_DIR / "mnist_cnn.json")
    conv = next(n for n in window.document.graph.nodes if n.type == "Conv2d")
    window.scene.select_nodes([conv.id])
    return conv


def type_into(widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    QTest.keyClicks(widget, text)
    QApplication.processEvents()


def shown_next_to(editor) -> str:
    """The field's own message line: shown, right under the field (within a line of it)."""
    error, field = editor.error, editor.widget
    assert error.isVisible(), "no message is shown next to the field"
    field_bottom = field.mapTo(field.window(), field.rect().bottomLeft()).y()
    error_top = error.mapTo(error.window(), error.rect().topLeft()).y()
    assert 0 <= error_top - field_bottom <= field.height()
    return error.text()


def test_a_size_field_explains_what_was_typed_at_once(window):
    conv = select_conv(window)
    editor = window.inspector.editors["kernel_size"]
    field = editor.widget
    assert isinstance(field, QLineEdit)
    type_into(field, "abc")  # no Enter: the message is there while typing
    text = shown_next_to(editor)
    assert "kernel_size" in text and "'abc'" in text and "whole number" in text
    type_into(field, "-5")
    text = shown_next_to(editor)
    assert "at least 1" in text and "-5" in text and "abc" not in text  # the new message, not the stale one
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert window.document.graph.node(conv.id).params.get("kernel_size") == 3  # refused, nothing changed
    assert "-5" in shown_next_to(editor)
    type_into(field, "5")
    assert not editor.error.isVisible() and editor.error.text() == ""
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert window.document.graph.node(conv.id).params["kernel_size"] == 5
    assert window.inspector.message.text() == ""


def test_a_spin_box_keeps_minus_five_and_says_why_it_is_refused(window):
    conv = select_conv(window)
    editor = window.inspector.editors["out_channels"]
    spin = editor.widget
    assert isinstance(spin, QSpinBox)
    type_into(spin, "-5")
    assert spin.text() == "-5"  # not silently 5
    text = shown_next_to(editor)
    assert "out_channels" in text and "at least 1" in text and "-5" in text
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert window.document.graph.node(conv.id).params["out_channels"] == 32
    assert spin.value() == 32
    text = shown_next_to(editor)
    assert "-5" in text and "kept 32" in text
    assert window.inspector.message is editor.error
    type_into(spin, "16")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert window.document.graph.node(conv.id).params["out_channels"] == 16
    assert not editor.error.isVisible()


def test_a_convolution_padding_takes_same_as_well_as_numbers(window):
    conv = select_conv(window)
    field = window.inspector.editors["padding"].widget
    assert isinstance(field, QLineEdit) and "same" in field.placeholderText()
    type_into(field, "same")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert window.document.graph.node(conv.id).params["padding"] == "same"
    assert window.inspector.editors["padding"].widget.text() == "same"
