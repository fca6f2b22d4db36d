"""Freezing in the window: Trainable in the inspector (a layer and a block), "Freeze everything before this" in a
node's context menu, each one undo step, and a frozen node drawn visibly iced."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF
from PySide6.QtGui import QAction, QColor, QContextMenuEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication

from core.model.summary import param_split
from gui.canvas.items import NodeItem
from gui.canvas.node_menu import node_menu
from gui.style import NODE_WIDTH
from tests.conftest import EXAMPLES
from tests.gui.mouse import viewport_point


def _node(window, name):
    node = window.document.graph.by_name(name)
    assert node is not None
    return node


def test_the_inspector_s_trainable_box_freezes_a_layer_in_one_undo_step(window, qtbot):
    fc1 = _node(window, "fc1")
    window.select_node(fc1.id)
    box = window.inspector.trainable_box
    assert box is not None and box.isChecked()
    stack = window.document.undo_stack
    before = stack.count()
    box.click()
    assert not fc1.trainable
    assert stack.count() == before + 1 and stack.undoText() == "Freeze fc1"
    assert window.scene.nodes[fc1.id].frozen
    qtbot.waitUntil(lambda: window.params_label.text() == "Parameters: 9,610 (1,290 trainable, 8,320 frozen)")
    stack.undo()
    assert fc1.trainable and not window.scene.nodes[fc1.id].frozen
    qtbot.waitUntil(box.isChecked)  # the inspector follows the model after the analysis
    assert window.params_label.text() == "Parameters: 9,610"
    stack.redo()
    qtbot.waitUntil(lambda: not box.isChecked())
    assert not fc1.trainable


def test_input_and_output_have_no_trainable_box(window):
    window.select_node(_node(window, "x").id)
    assert window.inspector.trainable_box is None


def test_a_block_instance_has_trainable_too(window):
    window.open_example(EXAMPLES / "resnet18.json")
    layer3 = _node(window, "layer3")
    window.select_node(layer3.id)
    box = window.inspector.trainable_box
    assert box is not None
    box.click()
    assert not layer3.trainable
    assert window.document.undo_stack.undoText() == "Freeze layer3"
    analysis = window.document.analysis
    assert param_split(window.document.graph, analysis)[1] == analysis.nodes[layer3.id].param_count > 0


def test_freeze_everything_before_the_head_is_one_undo_step(window):
    window.open_example(EXAMPLES / "resnet18.json")
    graph = window.document.graph
    fc = _node(window, "fc")
    stack = window.document.undo_stack
    before = stack.count()
    menu = node_menu(window.editor, fc.id, window)
    action = menu.findChild(QAction, "freeze_before")
    assert action is not None and action.isEnabled()
    action.trigger()
    frozen = sorted(n.name for n in graph.nodes if not n.trainable)
    assert frozen == ["bn1", "conv1", "layer1", "layer2", "layer3", "layer4"]  # ReLU, pooling: nothing to freeze
    assert stack.count() == before + 1
    assert stack.undoText() == "Freeze 6 layers before fc"
    trainable, non_trainable = param_split(graph, window.document.analysis)
    assert trainable == 512 * 1000 + 1000  # the head: fc's weight and bias
    assert non_trainable == window.document.analysis.total_params - trainable
    assert all(window.scene.nodes[n.id].frozen for n in graph.nodes if not n.trainable)
    stack.undo()
    assert all(n.trainable for n in graph.nodes)
    assert not node_menu(window.editor, _node(window, "conv1").id, window).actions()[1].isEnabled()  # nothing before


def _right_click(window, node_id):
    item = window.scene.nodes[node_id]
    window.view.centerOn(item)
    point = viewport_point(window.view, item.sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, window.view.viewport().mapToGlobal(point))
    QApplication.sendEvent(window.view.viewport(), event)


def test_right_click_on_a_node_opens_its_menu(window):
    window.open_example(EXAMPLES / "resnet18.json")
    fc = _node(window, "fc")
    _right_click(window, fc.id)
    menu = window.view.context_menu
    assert menu is not None and menu.isVisible()
    assert [a.text() for a in menu.actions()] == ["Trainable", "Freeze everything before this"]
    assert window.scene.selected_node_ids() == [fc.id]
    menu.findChild(QAction, "freeze_before").trigger()
    menu.close()
    assert not _node(window, "layer4").trainable and fc.trainable


def test_no_menu_while_the_network_is_read_only(window):
    window.set_editing_locked(True)
    _right_click(window, _node(window, "fc1").id)
    assert window.view.context_menu is None
    window.set_editing_locked(False)


def _render(item: NodeItem) -> QImage:
    image = QImage(int(NODE_WIDTH) + 40, int(item.height) + 40, QImage.Format.Format_ARGB32)
    image.fill(QColor("#f4f5f7"))
    painter = QPainter(image)
    painter.translate(20, 20)
    item.paint(painter, None, None)  # type: ignore[arg-type]
    painter.end()
    return image


def test_a_frozen_node_is_drawn_iced(window, tmp_path):
    fc1 = _node(window, "fc1")
    item = window.scene.nodes[fc1.id]
    plain = _render(item)
    window.editor.set_trainable([fc1.id], False)
    iced = _render(item)
    iced.save(str(tmp_path / "frozen.png"))
    body = QPoint(20 + int(NODE_WIDTH) - 30, 20 + int(item.height) - 30)  # inside the body, clear of any text
    assert plain.pixelColor(body).name() == "#ffffff"
    assert iced.pixelColor(body).name() != "#ffffff"
    header = QPoint(20 + int(NODE_WIDTH) - 5, 20 + 5)
    assert plain.pixelColor(header) != iced.pixelColor(header)  # the header greys
    assert QRectF(0, 0, NODE_WIDTH, item.height).contains(10, item.height)  # the tag sits on the bottom edge
