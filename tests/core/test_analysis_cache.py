"""One analysis per network: the window's refresh, the script generator and the trainer share it (issue 25), an edit
gives a new one, and no caller can change what the next is told."""

import copy

import pytest

from core.code.script import generate_script
from core.files.project import Project, from_dict, load
from core.model.analysis import Problem, analyze
from core.model.analysis_cache import cache_clear, cache_info
from core.model.block_edits import make_block
from core.model.catalog import LAYERS, LayerSpec
from core.model.graph import Graph
from tests.conftest import REPO

MLP = REPO / "resources" / "examples" / "digits_mlp.json"


def _runs() -> int:
    return cache_info().misses


def _mlp() -> Project:
    project = load(MLP)
    project.training.epochs, project.training.device = 1, "cpu"
    return project


def _chain() -> Graph:
    g = Graph()
    g.chain([g.add("Input", "x", shape=[8]), g.add("Linear", "fc", out_features=4), g.add("Output", "output")])
    return g


def test_the_window_and_the_script_at_one_graph_run_one_analysis() -> None:
    project = _mlp()
    cache_clear()
    before = _runs()
    window = analyze(project.graph, project.training)  # what the window's document calls after an edit
    generate_script(project)  # checks the project, then writes the model class: three more calls before
    snapshot = from_dict(copy.deepcopy(project.to_dict()))  # what a run trains: another Graph, the same network
    generate_script(snapshot)
    assert _runs() - before == 1
    assert analyze(snapshot.graph).total_params == window.total_params


@pytest.mark.slow  # imports torch and trains one epoch of digits
def test_a_run_reuses_the_analysis_of_the_network_it_trains() -> None:
    from core.training import Trainer

    project = _mlp()
    cache_clear()
    before = _runs()
    analyze(project.graph, project.training)  # the window
    snapshot = from_dict(copy.deepcopy(project.to_dict()))
    result = Trainer(snapshot, save=False).run()  # checks, generates its script, trains
    assert result.status == "finished", result.message
    assert _runs() - before == 1


def test_an_edit_gives_a_new_analysis() -> None:
    g = _chain()
    fc = g.by_name("fc")
    assert analyze(g).shape(fc.id) == (None, 4)
    g.set_param(fc.id, "out_features", 6)
    assert analyze(g).shape(fc.id) == (None, 6)
    g.node(fc.id).params["out_features"] = 7  # written in place, as a loader or a test does: no edit announced
    assert analyze(g).shape(fc.id) == (None, 7)
    relu = g.add("ReLU", "relu")
    g.disconnect(g.inputs_of(g.by_name("output").id)[0])
    g.chain([g.node(fc.id), relu, g.by_name("output")])
    assert relu.id in analyze(g).order


def test_an_edit_inside_a_block_definition_gives_the_network_a_new_analysis() -> None:
    g = _chain()
    fc = g.by_name("fc")
    edit = make_block(g, [fc.id], "Head")
    instance = edit.instance
    assert instance is not None and edit.definition is not None
    before = analyze(g).nodes[instance.id].param_count
    inner = edit.definition.graph
    inner.set_param(inner.by_name("fc").id, "out_features", 5)
    after = analyze(g)
    assert before == 8 * 4 + 4 and after.nodes[instance.id].param_count == 8 * 5 + 5
    assert after.shape(instance.id) == (None, 5)


def test_a_changed_catalog_entry_gives_a_new_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Graph()
    g.chain([g.add("Input", "x", shape=[8], dtype="int64"), g.add("ReLU", "relu"), g.add("Output", "output")])
    assert not analyze(g).ok  # token ids into a ReLU
    monkeypatch.setitem(LAYERS, "ReLU", LayerSpec(**{**LAYERS["ReLU"].__dict__, "accepts_tokens": True}))
    assert analyze(g).ok


def test_a_caller_cannot_change_the_kept_analysis() -> None:
    g = _chain()
    fc = g.by_name("fc")
    first = analyze(g)
    first.problems.append(Problem("planted"))
    first.order.clear()
    info = first.nodes[fc.id]
    info.params["out_features"] = 99
    info.in_shapes.clear()
    info.param_count = 0
    del first.nodes[g.by_name("x").id]
    again = analyze(g)
    assert again.ok and not again.problems and len(again.order) == 3 and len(again.nodes) == 3
    assert again.nodes[fc.id].params["out_features"] == 4 and again.nodes[fc.id].in_shapes == [(None, 8)]
    assert again.nodes[fc.id].param_count == 8 * 4 + 4


def test_the_task_check_is_the_callers_own() -> None:
    """The graph's part is shared; the network against the data is added to each caller's copy, so a call without
    settings does not see the task problems of one with them."""
    project = _mlp()
    g = project.graph
    g.set_param(g.by_name("fc2").id, "out_features", 3)  # digits has 10 classes
    with_task = analyze(g, project.training)
    assert any(p.kind == "task" for p in with_task.errors)
    assert not any(p.kind == "task" for p in analyze(g).problems)
