"""One parameter's field in the inspector: the editor widget its ``ParamSpec`` kind asks for, how its text is
checked, shown and parsed, and how a field is laid out beside its label."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from core.errors import ParameterError
from core.model.catalog import ParamSpec
from gui.panels.wrapping import let_wrap

INT_LIMIT = 2**31 - 1
BAD = "QLineEdit, QSpinBox { border: 1px solid #d93025; }"
FIELD_MIN_WIDTH = 64  # fields shrink to this before the form puts a label above its field (narrow dock)


class IntSpin(QSpinBox):
    """A spin box that lets any whole number be typed, so "-5" stays on screen to be explained next to the
    field (a plain QSpinBox drops the "-" and silently turns it into 5). Out of range, the value is not taken."""

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        core = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        if core == self.specialValueText() or re.fullmatch(r"-?\d*", core):
            ok = bool(re.fullmatch(r"-?\d+", core)) and self.minimum() <= int(core) <= self.maximum()
            ok = ok or (core == self.specialValueText() and bool(core))
            return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate, text, pos)
        return (QValidator.State.Invalid, text, pos)


class ParamEditor:
    """One parameter's widget with its own message line under it: ``set_value`` writes without echo; what the
    user types is checked as they type (the message appears at once); valid edits call ``commit(value)``."""

    def __init__(self, param: ParamSpec, commit: Callable[[Any], None]) -> None:
        self.param = param
        self.commit = commit
        self.widget: QWidget = self._make()
        self.widget.setToolTip(param.help)
        self.widget.setMinimumWidth(FIELD_MIN_WIDTH)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d93025;")
        self.error.setVisible(False)
        self._typed: str | None = None  # what the user typed into a spin box that it could not take

    def _make(self) -> QWidget:
        p = self.param
        if p.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on: self.commit(bool(on)))
            return box
        if p.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(p.choices))
            combo.currentTextChanged.connect(self.commit)
            return combo
        if p.kind == "int":
            spin = IntSpin()
            low = int(p.min) if p.min is not None else -INT_LIMIT
            spin.setRange(low - 1 if p.optional else low, int(p.max) if p.max is not None else INT_LIMIT)
            if p.optional:
                spin.setSpecialValueText("none")
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
            spin.valueChanged.connect(self._spin_changed)
            spin.lineEdit().textEdited.connect(self._spin_typed)
            spin.editingFinished.connect(self._spin_finished)
            return spin
        # a spin box cannot be empty: an optional float (BatchNorm's momentum) gets the text field below
        if p.kind == "float" and not p.optional and not (p.default and abs(p.default) < 1e-3):
            dspin = QDoubleSpinBox()
            dspin.setDecimals(4)
            dspin.setRange(p.min if p.min is not None else -1e9, p.max if p.max is not None else 1e9)
            dspin.setSingleStep(0.05 if p.max is not None and p.max <= 1 else 0.1)
            dspin.setKeyboardTracking(False)
            dspin.valueChanged.connect(lambda v: self.commit(float(v)))
            return dspin
        line = QLineEdit()  # size, ints, and tiny floats such as eps
        line.setPlaceholderText({"size": "e.g. 3  or  3, 3", "ints": "e.g. 1, 28, 28"}.get(p.kind, "a number"))
        if p.choices:
            line.setPlaceholderText(line.placeholderText() + "  or  " + "  or  ".join(p.choices))
        if p.optional:
            line.setPlaceholderText(line.placeholderText() + "  (empty: default)")
        line.textEdited.connect(lambda text: self.set_error(check_text(self.param, text)))
        line.editingFinished.connect(self._text_changed)
        return line

    def _spin_changed(self, value: int) -> None:
        spin = self.widget
        assert isinstance(spin, QSpinBox)
        self._typed = None
        self.commit(None if self.param.optional and value == spin.minimum() else int(value))

    def _spin_typed(self, text: str) -> None:
        spin = self.widget
        assert isinstance(spin, QSpinBox)
        core = text.removesuffix(spin.suffix()).strip()
        if core in ("", "-") or core == spin.specialValueText():
            self._typed = None
            self.set_error(None)
            return
        reason = check_text(self.param, core)
        self._typed = core if reason else None
        self.set_error(reason)

    def _spin_finished(self) -> None:
        """The spin box put its last good value back; say so, so the typed number is not lost silently."""
        spin = self.widget
        assert isinstance(spin, QSpinBox)
        if self._typed is not None:
            reason = check_text(self.param, self._typed)
            if reason:
                self.set_error(f"{reason} (kept {spin.text().strip()})")

    def _text_changed(self) -> None:
        line = self.widget
        assert isinstance(line, QLineEdit)
        reason = check_text(self.param, line.text())
        if reason:
            self.set_error(reason)
            return
        self.commit(parse_text(self.param, line.text()))

    def set_value(self, value: Any) -> None:
        w = self.widget
        blocker = QSignalBlocker(w)
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QSpinBox):
            w.setValue(w.minimum() if value is None else int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        elif isinstance(w, QLineEdit):
            w.setText(format_text(value))
        del blocker

    def set_error(self, reason: str | None) -> None:
        """Show (or clear) this field's message right under it; the previous message never stays behind."""
        self.widget.setStyleSheet(BAD if reason else "")
        self.widget.setToolTip(reason or self.param.help)
        self.error.setText(reason or "")
        self.error.setVisible(bool(reason))


def check_text(param: ParamSpec, text: str) -> str | None:
    """Why ``text`` is not a valid value for ``param`` (in the words of the layer's own rules), or None."""
    try:
        value = parse_text(param, text)
        param.validate(value)
    except (ValueError, ParameterError) as exc:
        return str(exc)
    return None


def format_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_text(param: ParamSpec, text: str) -> Any:
    text = text.strip().strip("[]()")
    if not text:
        if param.optional:
            return None
        raise ValueError(f"{param.name} needs a value")
    if param.kind == "size" and text.strip("\"'") in param.choices:  # a named size: padding "same"
        return text.strip("\"'")
    parts = [t for t in text.replace(",", " ").split() if t]
    try:
        if param.kind == "float":
            return float(text)
        numbers = [int(t) for t in parts]
    except ValueError:
        if param.kind == "float":
            raise ValueError(f"{param.name} must be a number such as 0.001, not '{text}'") from None
        example = {"size": "3  or  3, 3", "ints": "1, 28, 28"}.get(param.kind, "3")
        raise ValueError(f"{param.name} must be a whole number (e.g. {example}), not '{text}'") from None
    if param.kind in ("int", "size"):
        return numbers[0] if len(numbers) == 1 else numbers
    return numbers


def add_field(
    form: QFormLayout, label: QLabel | str, widget: QWidget, message: QLabel, button: QWidget | None = None
) -> None:
    """A form row for the field (and its Auto/Pinned button), and right under it a row for its message. (The
    message spans the form: a wrapped label inside the field column would get only one line's height.)"""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget, 1)
    if button is not None:
        row.addWidget(button)
    form.addRow(label, holder)
    let_wrap(message)
    form.addRow(message)
