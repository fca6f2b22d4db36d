"""Property: any run of layers made into a block generates a class that works for other inputs than the one it
was made from (its arguments really follow the input), with the same shapes and parameter count as inference."""

from __future__ import annotations

import random

import pytest

from core.model.analysis import analyze
from core.model.block_edits import make_block
from tests.core.graphs import random_draw, random_graph
from tests.core.test_codegen import check_forward_matches_inference

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

SEEDS = range(40)


def _blocked(seed: int):
    rng = random.Random(seed)
    for _ in range(30):  # a graph with at least two layers
        graph = random_graph(random_draw(rng), max_layers=8)
        order = [nid for nid in graph.topological_order() if graph.node(nid).type not in ("Input", "Output")]
        if len(order) >= 2:
            break
    else:
        return None
    start = rng.randrange(len(order) - 1)
    chosen = order[start : start + rng.randint(1, len(order) - start)]
    try:
        edit = make_block(graph, chosen, "Part")
    except Exception:  # a selection the editor refuses is not what this test is about
        return None
    return graph, edit


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_block_matches_inference_also_for_a_second_input_shape(seed: int):
    made = _blocked(seed)
    if made is None:
        pytest.skip("no selection")
    graph, edit = made
    # which case a seed draws moves with every change to the catalog or the drawing: a failure names its graph
    drawn = f"seed {seed}: graph {graph.to_dict()}, block Part {edit.definition.graph.to_dict()}"
    try:
        _check(graph, edit)
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}\n{drawn}\n(keep it as an explicit test)") from exc


def _check(graph, edit) -> None:
    check_forward_matches_inference(graph)
    # the definition's own example input changes: the class must still fit the instance's real input
    inner = edit.definition.graph
    first = inner.nodes_of_type("Input")[0]
    shape = list(first.params["shape"])
    if first.params.get("dtype") == "int64" or len(shape) < 2:
        pytest.skip("no channels to change")
    inner.node(first.id).params = {**first.params, "shape": [shape[0] * 2, *shape[1:]]}
    if not analyze(inner).ok:
        pytest.skip("the block does not fit other channels")
    check_forward_matches_inference(graph)
