"""The inspector's block parts: an instance's page (its arguments, Repeat ×N, Open and Ungroup) and, inside a
block's tab, the row that makes a pinned parameter one of the block's constructor arguments.

Every change goes through the editor (one undo command each), as the layer page does.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout

from core.model.blocks import MAX_REPEAT
from core.model.node import Node
from gui import style
from gui.panels.param_editor import FIELD_MIN_WIDTH, add_field

if TYPE_CHECKING:
    from gui.panels.inspector import Inspector


def _text(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


def parse_value(text: str) -> Any:
    """A typed argument value: a number, True/False, a list "3, 3", or the text itself (padding "same")."""
    text = text.strip()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    return list(value) if isinstance(value, tuple) else value


def build_instance_page(inspector: Inspector, node: Node, layout: QVBoxLayout) -> None:
    graph = inspector.editor.graph
    defn = graph.blocks.get(node.block or "")
    color = style.category_color("Block").name()
    title = f"<span style='font-size:14pt; font-weight:bold; color:{color}'>{node.block}</span>"
    layout.addWidget(inspector._wrapping(f"{title}&nbsp;&nbsp;<span style='color:#5f6368'>Block</span>"))
    about = defn.description if defn is not None and defn.description else "A block of this project."
    layout.addWidget(inspector._wrapping(f"{about} Double-click it to open its definition."))
    form = QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    inspector.name_edit = QLineEdit(node.name)
    inspector.name_edit.setMinimumWidth(FIELD_MIN_WIDTH)
    inspector.name_edit.editingFinished.connect(inspector._rename)
    add_field(form, "Name", inspector.name_edit, inspector.name_error)
    inspector.arg_edits = {}
    for arg in defn.args if defn is not None else []:
        edit = QLineEdit()
        edit.setObjectName(f"arg_{arg.name}")
        edit.setPlaceholderText(f"default {_text(arg.default)}")
        edit.setToolTip(f"The block's argument {arg.name} (empty: the default, {_text(arg.default)}).")
        edit.editingFinished.connect(lambda name=arg.name, e=edit: _commit_arg(inspector, name, e.text()))
        inspector.arg_edits[arg.name] = edit
        add_field(form, arg.name, edit, inspector._message_label())
    spin = QSpinBox()
    spin.setObjectName("repeat")
    spin.setRange(1, MAX_REPEAT)
    spin.setPrefix("×")
    spin.setToolTip("How many copies in a row: the code makes an nn.Sequential of them.")
    spin.setEnabled(node.ports == (1, 1) or node.repeat > 1)
    spin.valueChanged.connect(lambda n: inspector.editor.set_repeat(node.id, n))
    inspector.repeat_spin = spin
    add_field(form, "Repeat", spin, inspector._message_label())
    layout.addLayout(form)
    inspector.add_trainable_box(layout)
    if node.repeat > 1 and (node.first_block or node.first_params):
        args = ", ".join(f"{k}={_text(v)}" for k, v in node.first_params.items())
        first = f"{node.first_block or node.block}({args})"
        layout.addWidget(inspector._wrapping(f"<b>First copy:</b> {first}, then {node.repeat - 1} × {node.block}"))
    buttons = QHBoxLayout()
    open_button = QPushButton("Open definition")
    open_button.clicked.connect(lambda: inspector.open_block and inspector.open_block(str(node.block)))
    ungroup = QPushButton("Ungroup")
    ungroup.setToolTip("Put the block's layers here in place of this instance (Undo puts it back).")
    ungroup.clicked.connect(lambda: inspector.editor.ungroup(node.id))
    buttons.addWidget(open_button)
    buttons.addWidget(ungroup)
    layout.addLayout(buttons)
    inspector.shapes = inspector._wrapping("")
    layout.addWidget(inspector.shapes)


def _commit_arg(inspector: Inspector, name: str, text: str) -> None:
    if inspector.node_id is None:
        return
    value = parse_value(text) if text.strip() else None
    node = inspector.editor.graph.node(inspector.node_id)
    if value is None and name not in node.params:
        return
    inspector.editor.set_param(inspector.node_id, name, value)
    inspector.sync()


def sync_instance(inspector: Inspector, node: Node) -> None:
    for name, edit in inspector.arg_edits.items():
        text = _text(node.params[name]) if name in node.params else ""
        if edit.text() != text and not edit.hasFocus():
            edit.setText(text)
    if inspector.repeat_spin is not None and inspector.repeat_spin.value() != node.repeat:
        with QSignalBlocker(inspector.repeat_spin):
            inspector.repeat_spin.setValue(node.repeat)


def build_expose_row(inspector: Inspector, node: Node, layout: QVBoxLayout) -> None:
    """A pinned parameter (or one with a set value) of a layer inside a block: make it a block argument."""
    block = inspector.editor.block
    spec = node.spec
    if block is None or spec is None:
        return
    defn = inspector.editor.graph.blocks[block]
    bound = {p for (nid, p) in defn.bindings if nid == node.id}
    candidates = [p.name for p in spec.params if p.name not in bound and (p.name in node.params or not p.auto)]
    if bound:
        names = ", ".join(f"{p} → {defn.bindings[(node.id, p)]}" for p in sorted(bound))
        layout.addWidget(inspector._wrapping(f"<b>Block arguments:</b> {names}"))
    if not candidates:
        return
    row = QHBoxLayout()
    combo = QComboBox()
    combo.setObjectName("expose_param")
    combo.addItems(candidates)
    button = QPushButton("Make argument")
    button.setObjectName("expose_button")
    button.setToolTip(f"Make this parameter an argument of {block} (its value now becomes the default).")
    button.clicked.connect(lambda: inspector.editor.expose_arg(node.id, combo.currentText()))
    row.addWidget(combo, 1)
    row.addWidget(button)
    layout.addLayout(row)
