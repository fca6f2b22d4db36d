"""The canvas follows the user (issue 22): an auto-layout shows the whole network, and layers an edit adds are
scrolled into sight, wherever the view was looking."""

from __future__ import annotations

from PySide6.QtCore import QPointF


def in_view(window, node_id: str) -> bool:
    return window.view.visible_rect().contains(window.scene.nodes[node_id].sceneBoundingRect())


def test_auto_layout_shows_the_whole_network(window, qtbot):
    """The output dragged far away and looked at, then Auto-layout: the network moves back to its top-left
    corner, out of the view, which showed an empty canvas."""
    graph = window.document.graph
    output = graph.nodes[-1]
    window.editor.move({output.id: (output.pos, (6000.0, 3000.0))})
    window.view.set_zoom(1.0)
    window.view.centerOn(QPointF(6100.0, 3050.0))
    assert in_view(window, output.id)
    window.action_map["layout"].trigger()
    assert graph.node(output.id).pos[0] < 3000
    assert all(in_view(window, n.id) for n in graph.nodes)


def test_auto_layout_top_to_bottom_shows_the_whole_network(window):
    graph = window.document.graph
    window.view.set_zoom(2.5)
    window.view.centerOn(window.scene.nodes[graph.nodes[-1].id].sceneBoundingRect().center())
    window.action_map["layout_tb"].trigger()
    assert all(in_view(window, n.id) for n in graph.nodes)


def test_a_paste_lands_in_view(window):
    """Copy a layer, look elsewhere, paste: the copy (beside the original) was out of sight."""
    graph = window.document.graph
    window.scene.select_nodes([graph.nodes[2].id])
    assert window.editor.copy_selection() == 1
    window.view.centerOn(QPointF(8000.0, 8000.0))
    window.action_map["paste"].trigger()
    pasted = graph.nodes[-1]
    assert pasted.type == "Linear"
    assert in_view(window, pasted.id)


def test_a_duplicate_lands_in_view(window):
    graph = window.document.graph
    window.scene.select_nodes([n.id for n in graph.nodes[1:4]])
    window.view.centerOn(QPointF(-8000.0, -8000.0))
    new_ids = window.editor.duplicate_selection()
    assert len(new_ids) == 3
    assert all(in_view(window, nid) for nid in new_ids)


def test_a_layer_added_after_the_selection_is_in_view(window):
    """Double-click in the palette with the output selected while the view shows only it, zoomed in: the new
    layer goes below, past the edge of the view."""
    graph = window.document.graph
    output = window.scene.nodes[graph.nodes[-1].id]
    window.scene.select_nodes([graph.nodes[-1].id])
    window.view.set_zoom(3.0)
    window.view.centerOn(output.sceneBoundingRect().center())
    new_id = window.view.add_from_palette("Linear")
    assert in_view(window, new_id)
