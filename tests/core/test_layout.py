"""core.model.layout: wires point forward, nodes never overlap, long wires get their own lane."""

from __future__ import annotations

from core.files.project import load
from core.model.graph import Graph
from core.model.layout import layered_layout, layers
from core.model.node import Edge
from tests.conftest import EXAMPLES


def test_chain_is_one_straight_row():
    g = Graph()
    g.chain([g.add("Input", shape=[4]), g.add("Linear"), g.add("ReLU"), g.add("Output")])
    pos = layered_layout(g, origin=(0.0, 0.0))
    assert [pos[n.id] for n in g.nodes] == [(0.0, 0.0), (270.0, 0.0), (540.0, 0.0), (810.0, 0.0)]


def test_every_wire_points_forward_and_nodes_do_not_overlap():
    for path in EXAMPLES.glob("*.json"):
        graph = load(path).graph
        for direction in ("lr", "tb"):
            pos = layered_layout(graph, direction, 270.0, 150.0)
            axis = 0 if direction == "lr" else 1
            assert all(pos[e.src][axis] < pos[e.dst][axis] for e in graph.edges), path
            assert len(set(pos.values())) == len(pos), path


def test_residual_branch_steps_aside_from_the_skip_wire():
    graph = load(EXAMPLES / "residual_cnn.json").graph
    pos = layered_layout(graph, origin=(0.0, 0.0))
    by_name = {n.name: pos[n.id] for n in graph.nodes}
    main = {by_name[name][1] for name in ("x", "conv1", "relu1", "add", "fc", "output")}
    branch = {by_name[name][1] for name in ("conv2", "relu2", "conv3")}
    assert main == {0.0} and branch == {150.0}


def test_layers_cover_every_node_once_and_empty_graph():
    g = Graph()
    a, b, c = g.add("Input", shape=[2]), g.add("Add"), g.add("ReLU")
    g.connect(Edge(a.id, b.id, 0))
    g.connect(Edge(a.id, c.id))
    g.connect(Edge(c.id, b.id, 1))
    assert layers(g) == [[a.id], [c.id], [b.id]]
    g.add("Dropout")  # an unconnected node is laid out too
    assert len(layered_layout(g)) == 4
    assert layered_layout(Graph()) == {}


def test_long_networks_wrap_into_bands_that_fit_the_view():
    from core.files.project import load
    from core.model.layout import layered_layout
    from tests.conftest import EXAMPLES

    cnn = load(EXAMPLES / "mnist_cnn.json").graph  # 14 layers deep
    flat = layered_layout(cnn, "lr", 270.0, 150.0, (0.0, 0.0))
    wrapped = layered_layout(cnn, "lr", 270.0, 150.0, (0.0, 0.0), aspect=2.2)
    assert len({y for _, y in flat.values()}) == 1
    assert len({y for _, y in wrapped.values()}) == 3
    assert len(set(wrapped.values())) == len(wrapped)  # no two nodes on one spot
    width = max(x for x, _ in wrapped.values()) + 270.0
    assert width <= 5 * 270.0
    order = cnn.topological_order()
    # reading order is kept: band by band, left to right
    assert sorted(order, key=lambda n: (wrapped[n][1], wrapped[n][0])) == order
    mlp = load(EXAMPLES / "digits_mlp.json").graph  # short chains stay on one row
    assert len({y for _, y in layered_layout(mlp, "lr", 270.0, 150.0, (0.0, 0.0), aspect=2.2).values()}) == 1
