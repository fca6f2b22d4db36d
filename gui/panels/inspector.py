"""The inspector: the selected node's name, parameters, shapes and parameter count.

The form is built from the layer's ``ParamSpec`` list (kind -> editor widget), so a new layer needs no new
widget code. Every change goes through ``Editor.set_param`` / ``Editor.rename`` (one undo command each);
updates coming back from the model are written into the widgets under a ``QSignalBlocker`` to cut echo loops.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import TorchCanvasError
from core.model.analysis import NodeInfo
from core.model.catalog import LayerSpec, get_spec
from core.model.node import Node
from core.model.shape_rules import fmt
from gui import style
from gui.canvas.editor import Editor
from gui.panels.inspector_block import build_expose_row, build_instance_page, sync_instance
from gui.panels.param_editor import BAD, FIELD_MIN_WIDTH, ParamEditor, add_field
from gui.panels.wheel_guard import wheel_needs_focus
from gui.panels.wrapping import WrappingScroll, let_wrap


class Inspector(QWidget):
    """Shows one node (or a hint when none or several are selected)."""

    # The page's scroll area shadows QWidget.scroll(dx, dy), which nothing here calls; only mypy sees the clash.
    scroll: WrappingScroll  # type: ignore[assignment]

    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.pins: dict[str, QToolButton] = {}
        self.scroll = WrappingScroll()  # text wraps to the dock's width and gets its full height
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        self.name_error = self._message_label()
        self.open_block: Callable[[str], object] | None = None  # set by the canvas tabs: show a definition
        self.repeat_spin: QSpinBox | None = None
        self.trainable_box: QCheckBox | None = None  # a layer's or a block's Trainable (none for Input / Output)
        self.head_button: QPushButton | None = None  # "New head for N classes" on a classifier's last layer
        self.head_note = self._wrapping("")  # what the last new head changed
        self.arg_edits: dict[str, QLineEdit] = {}
        self.show_node(None)

    @property
    def message(self) -> QLabel:
        """The message line in view (each field has its own, under it), or the name's when none shows."""
        for label in (self.name_error, *(editor.error for editor in self.editors.values())):
            if label.text():
                return label
        return self.name_error

    @staticmethod
    def _message_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setStyleSheet("color: #d93025;")
        label.setVisible(False)
        return label

    @staticmethod
    def _wrapping(text: str) -> QLabel:
        """A label that wraps inside the dock's width instead of widening the page past it."""
        label = QLabel(text)
        label.setWordWrap(True)
        let_wrap(label)
        return label

    # --- building ------------------------------------------------------------------------------------------
    def show_node(self, node_id: str | None, count: int = 1) -> None:
        """Build the page for ``node_id``: a layer's form, a block instance's page, or a hint (``count`` selected)."""
        self.node_id = node_id if node_id in self.editor.graph else None
        self.editors.clear()
        self.pins.clear()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 10, 10, 10)
        self.name_error = self._message_label()
        if self.node_id is None:
            layout.addWidget(self._selection_hint(count))
        else:
            self._build_node_page(self.editor.graph.node(self.node_id), layout)
        layout.addStretch(1)
        wheel_needs_focus(page)  # the wheel over a parameter scrolls the page unless that field has the focus
        self.scroll.setWidget(page)
        self.sync()

    def _build_node_page(self, node: Node, layout: QVBoxLayout) -> None:
        self.repeat_spin = None
        self.trainable_box = None
        self.head_button = None
        if node.block is not None:
            build_instance_page(self, node, layout)
        elif node.spec is None:
            layout.addWidget(self._unknown_layer_hint(node))
            self.node_id = None  # nothing to edit or sync
        else:
            self._build_layer_page(node, layout)

    def _selection_hint(self, count: int) -> QLabel:
        text = (
            f"<b>{count} layers selected.</b><br>Select a single layer to edit it."
            if count > 1
            else "<b>No layer selected.</b><br><br>Click a layer on the canvas to see and change its settings."
            "<br><br>Add layers by dragging them from the palette on the left; connect them by dragging from "
            "an output port (right side of a layer) to an input port (left side)."
        )
        hint = self._wrapping(text)
        hint.setStyleSheet("color: #5f6368;")
        return hint

    def _unknown_layer_hint(self, node: Node) -> QLabel:
        return self._wrapping(
            f"<b>{node.name}</b> is of the layer type <b>{node.type}</b>, which this version of TorchCanvas "
            "does not know (perhaps the file was made by a newer version). It is kept as it is; delete it or "
            "replace it with a known layer to generate code."
        )

    def _build_layer_page(self, node: Node, layout: QVBoxLayout) -> None:
        """Title, help and documentation link, the name and parameter form, and the shapes line."""
        self._add_title(get_spec(node.type), layout)  # a known type: _build_node_page asked
        layout.addLayout(self._param_form(node))
        if node.type not in ("Input", "Output"):
            self.add_trainable_box(layout)
        if self.editor.block is not None:  # inside a block: a pinned parameter can become the block's argument
            build_expose_row(self, node, layout)
        self.shapes = self._wrapping("")
        self.shapes.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.shapes)

    def _add_title(self, spec: LayerSpec, layout: QVBoxLayout) -> None:
        color = style.category_color(spec.category).name()
        title = self._wrapping(
            f"<span style='font-size:14pt; font-weight:bold; color:{color}'>{spec.display}</span>"
            f"&nbsp;&nbsp;<span style='color:#5f6368'>{spec.category}</span>"
        )
        layout.addWidget(title)
        layout.addWidget(self._wrapping(spec.help))
        if spec.doc_url:
            link = self._wrapping(
                f"<a href='{spec.doc_url}'>PyTorch documentation for {spec.torch_class or spec.id}</a>"
            )
            link.setOpenExternalLinks(True)
            link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            link.setObjectName("doc_link")
            layout.addWidget(link)

    def _param_form(self, node: Node) -> QFormLayout:
        """The name field, then one field per parameter (kind -> widget, see ``ParamEditor``)."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock puts labels above fields
        self.name_edit = QLineEdit(node.name)
        self.name_edit.setToolTip("The name used for this layer in the generated code (self.<name>).")
        self.name_edit.setMinimumWidth(FIELD_MIN_WIDTH)
        self.name_edit.editingFinished.connect(self._rename)
        add_field(form, "Name", self.name_edit, self.name_error)
        for param in get_spec(node.type).params:
            editor = ParamEditor(param, partial(self._commit, param.name))
            self.editors[param.name] = editor
            label = QLabel(param.name)
            label.setToolTip(param.help)
            pin = self._pin_button(param.name) if param.auto else None
            add_field(form, label, editor.widget, editor.error, pin)
        return form

    def add_trainable_box(self, layout: QVBoxLayout) -> None:
        """Trainable on/off (Keras' ``layer.trainable``): off freezes the layer, or every layer of a block."""
        box = QCheckBox("Trainable")
        box.setObjectName("trainable")
        box.setToolTip(
            "Off: this layer's weights (a block's: all of its layers') stay as they are while training, as a "
            "pretrained backbone under a new head. A frozen BatchNorm keeps its statistics."
        )
        box.toggled.connect(self._set_trainable)
        self.trainable_box = box
        layout.addWidget(box)
        self.head_button = QPushButton()
        self.head_button.setObjectName("new_head")
        self.head_button.setVisible(False)
        self.head_button.clicked.connect(self._new_head)
        layout.addWidget(self.head_button)
        self.head_note = self._wrapping("")
        self.head_note.setObjectName("head_note")
        layout.addWidget(self.head_note)

    def _sync_head(self) -> None:
        """The New head button shows on the layer (or block) a new head goes into, while the dataset needs one."""
        if self.head_button is None:
            return
        fit = self.editor.head_fit()
        mine = fit is not None and self.node_id == (fit.node_id if fit.block is None else fit.instance_id)
        self.head_button.setVisible(mine)
        if fit is not None and mine:
            self.head_button.setText(f"New head for {fit.new} classes")
            self.head_button.setToolTip(
                f"{fit.dataset} has {fit.new} classes; this network scores {fit.old}. Set {fit.name}'s out_features "
                f"to {fit.new} (one undo step): its weights start fresh, the layers before keep theirs."
            )

    def _new_head(self) -> None:
        note = self.editor.fit_head()
        if note:
            self.head_note.setText(note)

    def _set_trainable(self, on: bool) -> None:
        if self.node_id is not None:
            self.editor.set_trainable([self.node_id], on)

    def _pin_button(self, name: str) -> QToolButton:
        """Auto or Pinned: an auto-filled parameter follows the input until the user pins a value of their own."""
        pin = QToolButton()
        pin.setCheckable(True)
        pin.setToolTip(
            "Auto: filled from the incoming tensor's shape. Pin it to type your own value "
            "(a wrong value is then flagged)."
        )
        pin.toggled.connect(lambda on: self._pin(name, on))
        self.pins[name] = pin
        return pin

    # --- model -> widgets ----------------------------------------------------------------------------------
    def sync(self) -> None:
        if self.node_id is None:
            return
        if self.node_id not in self.editor.graph:
            self.show_node(None)
            return
        node = self.editor.graph.node(self.node_id)
        info = self.editor.analysis.nodes.get(self.node_id)
        if self.name_edit.text() != node.name and not self.name_edit.hasFocus():
            self.name_edit.setText(node.name)
        if self.trainable_box is not None and self.trainable_box.isChecked() != node.trainable:
            with QSignalBlocker(self.trainable_box):
                self.trainable_box.setChecked(node.trainable)
        self._sync_head()
        if node.block is not None:
            sync_instance(self, node)
            self._show_shapes(info)
            return
        spec = get_spec(node.type)
        for param in spec.params:
            editor = self.editors[param.name]
            pinned = param.name in node.params
            if param.auto:
                auto_value = info.params.get(param.name) if info else None
                value = node.params[param.name] if pinned else auto_value
                widget = editor.widget
                if isinstance(widget, QSpinBox):
                    widget.setSuffix("" if pinned else " (auto)")
                    widget.setSpecialValueText("" if pinned else "auto (connect an input)")
                    with QSignalBlocker(widget):
                        widget.setMinimum(int(param.min or 1) - (0 if pinned else 1))
                editor.set_value(value)
                widget.setEnabled(pinned)
                pin = self.pins[param.name]
                with QSignalBlocker(pin):
                    pin.setChecked(pinned)
                pin.setText("Pinned" if pinned else "Auto")
            else:
                editor.set_value(node.params.get(param.name, param.default))
            editor.set_error(None)
        self._show_shapes(info)

    def _show_shapes(self, info: NodeInfo | None) -> None:
        analysis = self.editor.analysis
        lines = []
        if info is not None:
            ins = [fmt(s) for s in info.in_shapes]
            if ins:
                lines.append(f"<b>Input shape{'s' if len(ins) > 1 else ''}:</b> {', '.join(ins)}")
            if info.out_shape is not None:
                lines.append(f"<b>Output shape:</b> {fmt(info.out_shape)}")
            graph, node_id = self.editor.graph, self.node_id
            frozen = node_id is not None and node_id in graph and not graph.node(node_id).trainable
            lines.append(f"<b>Parameters:</b> {info.param_count:,}{' (frozen)' if frozen and info.param_count else ''}")
        for problem in analysis.problems_of(self.node_id or ""):
            color = "#d93025" if problem.severity == "error" else "#b06000"
            lines.append(f"<span style='color:{color}'>⚠ {problem.message}</span>")
        self.shapes.setText("<br>".join(lines))

    # --- widgets -> commands -------------------------------------------------------------------------------
    def _commit(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        reason = self.editor.set_param(self.node_id, name, value)
        editor = self.editors[name]
        editor.set_error(reason)
        if not reason:
            self.sync()

    def _pin(self, name: str, on: bool) -> None:
        if self.node_id is None:
            return
        if on:
            info = self.editor.analysis.nodes.get(self.node_id)
            value = info.params.get(name) if info else None
            self._commit(name, value if value is not None else 1)
        else:
            self._commit(name, None)

    def _rename(self) -> None:
        if self.node_id is None:
            return
        new = self.name_edit.text().strip()
        try:
            reason = self.editor.rename(self.node_id, new)
        except TorchCanvasError as exc:
            reason = str(exc)
        self.name_error.setText(reason or "")
        self.name_error.setVisible(bool(reason))
        self.name_edit.setStyleSheet(BAD if reason else "")
        if reason:
            self.name_edit.setText(self.editor.graph.node(self.node_id).name)
