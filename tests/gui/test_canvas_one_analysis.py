"""An edit on the canvas is analysed once: the window's refresh (shapes on the canvas, the code view, the summary)
analyses it, and the script a run would train and the run's own check read that analysis (issue 25)."""

from __future__ import annotations

from core.code.script import generate_script
from core.model.analysis import analyze
from core.model.analysis_cache import cache_info
from tests.conftest import EXAMPLES


def test_one_edit_is_analysed_once_for_the_window_the_script_and_a_run(window, qtbot):
    window.open_example(EXAMPLES / "digits_mlp.json")
    document = window.document
    fc = document.graph.by_name("fc1")
    with qtbot.waitSignal(document.analyzed, timeout=5000):
        assert window.editor.set_param(fc.id, "out_features", 96) is None
    assert "nn.Linear(64, 96)" in window.code_view.text()
    before = cache_info().misses  # no event loop runs from here on: only the calls below can analyse
    snapshot = document.snapshot()  # what Train hands the run: another Graph, the same network
    generate_script(snapshot)
    assert analyze(snapshot.graph).nodes[fc.id].param_count == 64 * 96 + 96  # the run's check
    assert analyze(document.graph, document.project.training).ok  # the window asking again
    assert cache_info().misses - before == 0
