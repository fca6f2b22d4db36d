"""Palette search + Enter (issue 22): the entry named exactly as typed wins over the first one listed, then the
names that start with the text; the search box is cleared once a layer is added."""

from __future__ import annotations

from PySide6.QtCore import Qt


def search_and_enter(window, qtbot, text: str) -> str:
    """Type ``text`` in the palette's search box, press Enter; the type of the layer that was added."""
    graph = window.document.graph
    before = {n.id for n in graph.nodes}
    window.scene.select_nodes([])
    window.palette.search.setFocus()
    qtbot.keyClicks(window.palette.search, text)
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    added = [n for n in graph.nodes if n.id not in before]
    assert len(added) == 1
    return added[0].type if added[0].block is None else f"block:{added[0].block}"


def test_an_exact_name_wins_over_the_first_hit(window, qtbot):
    """'output' also matches layers whose help mentions outputs (Linear is listed first)."""
    assert window.palette.visible_layers() != []
    qtbot.keyClicks(window.palette.search, "output")
    assert window.palette.visible_layers()[0] != "Output"  # what Enter used to add
    window.palette.search.clear()
    assert search_and_enter(window, qtbot, "output") == "Output"


def test_the_exact_name_ignores_case_and_matches_the_id(window, qtbot):
    assert search_and_enter(window, qtbot, "RELU") == "ReLU"
    assert search_and_enter(window, qtbot, "takeToken") == "TakeToken"  # the id; its display is 'Take token'
    assert search_and_enter(window, qtbot, "take token") == "TakeToken"


def test_a_prefix_comes_before_a_match_in_the_middle(window, qtbot):
    """'sig' is inside Hardsigmoid, listed before Sigmoid, which starts with it; within a rank the palette's
    order stays."""
    palette = window.palette
    qtbot.keyClicks(palette.search, "drop")
    hits = palette.ranked_hits()
    assert hits[0] == "Dropout"
    assert all(h.lower().startswith("drop") for h in hits[:3])
    palette.search.clear()
    qtbot.keyClicks(palette.search, "sig")
    assert palette.ranked_hits()[0] == "Sigmoid"  # before Hardsigmoid, listed first
    assert palette.visible_layers()[0] == "Hardsigmoid"
    assert palette.tree.currentItem() is palette.items["Sigmoid"]  # the row Enter adds is highlighted


def test_the_search_is_cleared_once_a_layer_is_added(window, qtbot):
    search_and_enter(window, qtbot, "dropout")
    assert window.palette.search.text() == ""
    assert "Linear" in window.palette.visible_layers()


def test_a_built_in_block_by_its_exact_name(window, qtbot):
    assert search_and_enter(window, qtbot, "basicblock") == "block:BasicBlock"
