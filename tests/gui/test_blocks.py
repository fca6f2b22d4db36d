"""Blocks in the editor: make one from a selection, open its definition in a tab and come back, edit it (every
instance follows), ungroup, repeat, and add a built-in one from the palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from core.files import project as project_io
from core.model.node import Edge
from gui.canvas.view import BLOCK_PREFIX

RESNET = Path(__file__).resolve().parents[2] / "resources" / "examples" / "resnet18.json"


def _ids(window, *names):
    return [window.document.graph.by_name(n).id for n in names]


def _conv_net(window):
    """Input [3, 16, 16] -> conv1 -> relu1 -> conv2 -> relu2 -> flatten -> fc -> output, built with the editor."""
    window.document.new()
    ed = window.editor
    x = ed.add_layer("Input", (0, 0))
    ed.set_param(x.id, "shape", [3, 16, 16])
    prev = x.id
    for i, layer in enumerate(["Conv2d", "ReLU", "Conv2d", "ReLU", "Flatten", "Linear", "Output"]):
        prev = ed.add_layer(layer, (300.0 * (i + 1), 0), connect_from=prev).id
    window.document.refresh()
    return window.document.graph


@pytest.mark.slow
def test_make_block_is_one_undo_step_and_undo_restores_the_graph(empty_window):
    window = empty_window
    graph = _conv_net(window)
    before = project_io.dumps(window.document.project)
    stack = window.document.undo_stack
    steps = stack.index()
    window.scene.select_nodes(_ids(window, "conv1", "relu1", "conv2", "relu2"))
    assert window.canvas_tabs.make_block() is None
    assert stack.index() == steps + 1
    assert list(graph.blocks) == ["Block1"]
    instance = next(n for n in graph.nodes if n.block == "Block1")
    assert graph.by_name("conv1") is None and len(graph) == 5
    window.document.refresh()
    item = window.scene.nodes[instance.id]
    assert item.layer == "Block1" and len(item.inputs) == 1 and len(item.outputs) == 1
    assert item.shape_text == "[N, 32, 12, 12]"
    assert item.lines[-1] == f"params: {2 * 32 + 3 * 32 * 9 + 32 * 32 * 9:,}"
    # a chain-only block reads as nn.Sequential of its layers
    assert f"self.{instance.name} = nn.Sequential(" in window.code_view.editor.toPlainText()
    stack.undo()
    assert project_io.dumps(window.document.project) == before
    stack.redo()
    assert graph.node(instance.id).block == "Block1"


def test_open_definition_in_a_tab_and_back_by_the_breadcrumb(qtbot, window):
    assert window.open_file(RESNET)
    tabs = window.canvas_tabs
    layer1 = window.document.graph.by_name("layer1")
    item = window.scene.nodes[layer1.id]
    window.view.centerOn(item)
    spot = window.view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    tab = tabs.current()
    assert tab is not None and tab.name == "BasicBlock"
    assert tabs.breadcrumb.isVisible() and "Network" in tabs.breadcrumb.text()
    assert set(tab.scene.nodes) == {n.id for n in window.document.graph.blocks["BasicBlock"].graph.nodes}
    tabs.breadcrumb.linkActivated.emit("net:")
    assert tabs.current() is None and tabs.tabs.currentWidget() is window.view
    assert not tabs.breadcrumb.isVisible()


@pytest.mark.slow
def test_edit_inside_the_definition_updates_every_instance_and_the_code(window):
    window.open_file(RESNET)
    tab = window.canvas_tabs.open_block("BasicBlock")
    graph = window.document.graph
    relu = tab.editor.graph.by_name("relu")
    before = {n.name: window.scene.nodes[n.id].lines[-1] for n in graph.nodes if n.block}
    # an edit inside the block: change the second convolution's kernel size (and padding): shapes stay, params grow
    conv2 = tab.editor.graph.by_name("conv2")
    assert tab.editor.set_param(conv2.id, "kernel_size", 5) is None
    assert tab.editor.set_param(conv2.id, "padding", 2) is None
    window.document.refresh()
    after = {n.name: window.scene.nodes[n.id].lines[-1] for n in graph.nodes if n.block}
    assert all(before[k] != after[k] for k in before)  # every instance's parameter count changed
    assert "kernel_size=5" in window.code_view.editor.toPlainText()
    assert relu is not None
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    window.document.refresh()
    assert {n.name: window.scene.nodes[n.id].lines[-1] for n in graph.nodes if n.block} == before


@pytest.mark.slow
def test_ungroup_inlines_one_instance_and_undo_puts_it_back(empty_window):
    window = empty_window
    graph = _conv_net(window)
    window.scene.select_nodes(_ids(window, "conv2", "relu2"))
    window.canvas_tabs.make_block()
    before = project_io.dumps(window.document.project)
    instance = next(n for n in graph.nodes if n.block)
    window.scene.select_nodes([instance.id])
    assert window.canvas_tabs.ungroup() is None
    assert instance.id not in graph and graph.by_name("conv2") is not None
    window.document.refresh()
    assert not [p for p in window.document.analysis.errors if p.kind != "task"]
    assert [graph.node(e.src).name for e in graph.inputs_of(graph.by_name("flatten1").id)] == ["relu2"]
    window.document.undo_stack.undo()
    assert project_io.dumps(window.document.project) == before


@pytest.mark.slow
def test_repeat_makes_a_sequential_in_the_code(empty_window):
    window = empty_window
    graph = _conv_net(window)
    window.scene.select_nodes(_ids(window, "conv2", "relu2"))
    window.canvas_tabs.make_block()
    instance = next(n for n in graph.nodes if n.block)
    window.scene.select_nodes([instance.id])
    assert window.inspector.repeat_spin is not None
    window.inspector.repeat_spin.setValue(3)
    assert graph.node(instance.id).repeat == 3
    window.document.refresh()
    code = window.code_view.editor.toPlainText()
    assert f"self.{instance.name} = nn.Sequential(" in code
    assert code.count("nn.Conv2d(32, 32, kernel_size=3)") == 3  # three copies of the (chain) block
    item = window.scene.nodes[instance.id]
    assert item.layer == "Block1 ×3" and item.repeat == 3
    window.document.undo_stack.undo()
    assert graph.node(instance.id).repeat == 1


def test_palette_drop_of_a_builtin_block_gives_an_instance_with_its_shapes(qtbot, empty_window):
    window = empty_window
    ed = window.editor
    x = ed.add_layer("Input", (0, 0))
    ed.set_param(x.id, "shape", [64, 8, 8])
    assert "BasicBlock" in window.palette.block_items
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDropEvent

    from gui.canvas.view import LAYER_MIME

    mime = QMimeData()
    mime.setData(LAYER_MIME, (BLOCK_PREFIX + "BasicBlock").encode())
    spot = window.view.viewport().rect().center()
    no_button, no_key = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    event = QDropEvent(QPointF(spot), Qt.DropAction.CopyAction, mime, no_button, no_key)
    window.view.dropEvent(event)
    graph = window.document.graph
    instance = next(n for n in graph.nodes if n.block == "BasicBlock")
    assert "BasicBlock" in graph.blocks
    assert window.editor.connect(Edge(x.id, instance.id)) is None
    window.document.refresh()
    assert window.scene.nodes[instance.id].shape_text == "[N, 64, 8, 8]"
    assert window.document.analysis.nodes[instance.id].param_count == 2 * (64 * 64 * 9 + 128)
    window.document.refresh()
    assert window.palette.block_items["BasicBlock"].text(0) == "BasicBlock"  # now one of the project's blocks
    stack = window.document.undo_stack
    stack.undo()
    stack.undo()
    assert "BasicBlock" not in graph.blocks  # the definition came with the instance, in the same step


@pytest.mark.slow
def test_expose_a_pinned_param_as_an_argument(window):
    window.open_file(RESNET)
    tab = window.canvas_tabs.open_block("BasicBlock")
    defn = window.document.graph.blocks["BasicBlock"]
    conv2 = tab.editor.graph.by_name("conv2")
    assert defn.arg("padding") is None
    assert tab.editor.expose_arg(conv2.id, "padding") is None
    assert defn.arg("padding") is not None and defn.bindings[(conv2.id, "padding")] == "padding"
    window.document.refresh()
    assert "padding: int = 1" in window.code_view.editor.toPlainText() or "padding=1" in (
        window.code_view.editor.toPlainText()
    )
    window.document.undo_stack.undo()
    assert defn.arg("padding") is None and (conv2.id, "padding") not in defn.bindings


@pytest.mark.slow
def test_edit_actions_act_on_the_block_tab_shown(window):
    window.open_file(RESNET)
    tab = window.canvas_tabs.open_block("BasicBlock")
    inner = tab.editor.graph
    network_size = len(window.document.graph)
    relu2 = inner.by_name("relu2")
    tab.scene.select_nodes([relu2.id])
    window.action_map["delete"].trigger()
    assert inner.by_name("relu2") is None and len(window.document.graph) == network_size
    window.document.undo_stack.undo()
    assert inner.by_name("relu2") is not None
    window.canvas_tabs.show_network()
    window.scene.select_nodes([window.document.graph.by_name("fc").id])
    window.action_map["delete"].trigger()
    assert window.document.graph.by_name("fc") is None and inner.by_name("relu2") is not None


@pytest.mark.slow
def test_a_second_input_inside_a_definition_gives_every_instance_a_second_port(empty_window):
    window = empty_window
    graph = _conv_net(window)
    window.scene.select_nodes(_ids(window, "conv2", "relu2"))
    window.canvas_tabs.make_block()
    instance = next(n for n in graph.nodes if n.block)
    tab = window.canvas_tabs.open_block(instance.block)
    tab.editor.add_layer("Input", (0, 300))
    assert graph.node(instance.id).ports == (2, 1)
    assert len(window.scene.nodes[instance.id].inputs) == 2
    window.document.undo_stack.undo()
    assert graph.node(instance.id).ports == (1, 1) and len(window.scene.nodes[instance.id].inputs) == 1


def test_a_refused_make_block_leaves_the_graph_as_it_was(empty_window):
    """conv1 and relu2 without the layers between them would make a cycle: refused, nothing changed, no undo step
    (core refused half-way through, and the graph was left with the layers gone)."""
    window = empty_window
    _conv_net(window)
    before = project_io.dumps(window.document.project)
    steps = window.document.undo_stack.count()
    reason = window.editor.make_block(_ids(window, "conv1", "relu2"))
    assert reason is not None and "cycle" in reason
    assert project_io.dumps(window.document.project) == before
    assert window.document.undo_stack.count() == steps and not window.document.graph.blocks


def test_a_block_tab_is_read_only_while_training_locks_editing(window):
    window.open_file(RESNET)
    tab = window.canvas_tabs.open_block("BasicBlock")
    window.set_editing_locked(True)
    assert not tab.view.isInteractive() and not window.canvas_tabs.actions_["make_block"].isEnabled()
    other = window.canvas_tabs.open_block("BasicBlockDown")
    assert not other.view.isInteractive()
    window.set_editing_locked(False)
    assert tab.view.isInteractive() and other.view.isInteractive()
