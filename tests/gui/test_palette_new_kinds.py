"""The layer kinds added for torchvision's CNN families (issue 23) are drawable by hand: the palette lists them,
Enter adds one to the canvas, and the analysis gives it a shape there."""

from __future__ import annotations

import pytest

from core.model.analysis import analyze
from tests.gui.test_palette_search import search_and_enter


@pytest.mark.parametrize(
    ("typed", "layer"),
    [("Stochastic depth", "StochasticDepth"), ("Chunk", "Chunk"), ("Channel shuffle", "ChannelShuffle")],
)
def test_each_new_kind_is_in_the_palette_and_lands_on_the_canvas(window, qtbot, typed: str, layer: str) -> None:
    assert layer in window.palette.visible_layers()
    assert search_and_enter(window, qtbot, typed) == layer
    added = [n for n in window.document.graph.nodes if n.type == layer]
    assert len(added) == 1
    assert analyze(window.document.graph).nodes[added[0].id].params  # it has its settings, shown in the inspector
