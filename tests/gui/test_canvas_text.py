"""The canvas shows its text whole: node names and parameter lines such as ``in_features: 5408 (auto)`` are not
elided, the shape label of every wire (``[N, 32, 26, 26]``) sits in the free space between the boxes, and after
Auto-layout no two layers overlap. New layers from the palette land inside the visible canvas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFontMetricsF

from core.cli import EXAMPLES_DIR
from gui import style
from gui.canvas import node_text

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))


def body_rect(item) -> QRectF:
    return QRectF(item.scenePos(), QPointF(item.scenePos().x() + style.NODE_WIDTH, item.scenePos().y() + item.height))


def hidden_text(scene) -> list[str]:
    found = []
    body = QFontMetricsF(style.font(node_text.BODY_POINTS))
    name = QFontMetricsF(style.font(node_text.NAME_POINTS, bold=True))
    for item in scene.nodes.values():
        for line in item.lines:
            if body.horizontalAdvance(line) > node_text.text_width():
                found.append(f"{item.name}: {line!r} is elided")
        if name.horizontalAdvance(item.name) > node_text.name_room(item.name, item.layer):
            found.append(f"the name {item.name!r} is elided")
    boxes = {nid: body_rect(item) for nid, item in scene.nodes.items()}
    for edge, wire in scene.wires.items():
        if not wire.label:
            continue
        label = wire.mapRectToScene(wire.label_rect)
        for nid, box in boxes.items():
            if label.intersects(box.adjusted(-style.PORT_RADIUS, 0, style.PORT_RADIUS, 0)):
                found.append(f"the label {wire.label!r} of {edge.src}->{edge.dst} is under {nid}")
    ids = list(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if boxes[a].intersects(boxes[b]):
                found.append(f"{a} and {b} overlap")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_text_is_whole_and_nothing_overlaps_after_auto_layout(window, example):
    window.open_file(example)  # the positions saved in the file (closer together than auto-layout's)
    window.document.refresh()
    found = [f"as saved: {p}" for p in hidden_text(window.scene)]
    window.open_example(example)
    window.document.refresh()
    found += [f"opened as an example: {p}" for p in hidden_text(window.scene)]
    for direction in ("lr", "tb"):
        window.editor.auto_layout(direction)
        found += [f"auto-layout {direction}: {p}" for p in hidden_text(window.scene)]
    assert not found, "\n".join(found)


def test_layers_added_from_the_palette_land_in_view(window):
    view = window.view
    view.set_zoom(1.0)
    view.centerOn(QPointF(-3000, -3000))  # the network is far out of sight
    window.palette.layer_activated.emit("ReLU")  # double-click in the palette, nothing selected
    added = window.document.graph.nodes[-1].id
    assert view.visible_rect().contains(window.scene.nodes[added].sceneBoundingRect())
    last = window.document.graph.nodes[0].id
    window.scene.select_nodes([last])  # double-click with a selection: wired after it, and shown
    window.palette.layer_activated.emit("Dropout")
    added = window.document.graph.nodes[-1].id
    assert any(e.src == last and e.dst == added for e in window.document.graph.edges)
    assert view.visible_rect().contains(window.scene.nodes[added].sceneBoundingRect())
