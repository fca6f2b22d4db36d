"""An edit on the canvas is analysed once: the window's refresh (shapes on the canvas, the code view, the summary),
the script a run would train and the run's own check all read that one analysis (issue 25)."""

from __future__ import annotations

from core.code.script import generate_script
from core.model.analysis import analyze
from core.model.analysis_cache import cache_clear, cache_info
from tests.conftest import EXAMPLES


def test_one_edit_is_analysed_once_for_the_window_the_script_and_a_run(window, qtbot):
    window.open_example(EXAMPLES / "digits_mlp.json")
    document = window.document
    fc = document.graph.by_name("fc1")
    cache_clear()
    before = cache_info().misses
    with qtbot.waitSignal(document.analyzed, timeout=30_000):
        assert window.editor.set_param(fc.id, "out_features", 96) is None
    assert "nn.Linear(64, 96)" in window.code_view.text()
    snapshot = document.snapshot()  # what Train hands the run
    generate_script(snapshot)
    assert analyze(snapshot.graph).nodes[fc.id].param_count == 64 * 96 + 96
    assert cache_info().misses - before == 1
