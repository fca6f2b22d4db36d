import pytest

from core.errors import (
    CycleError,
    GraphError,
    InvalidNameError,
    ParameterError,
    PortAlreadyConnectedError,
    PortError,
    SelfConnectionError,
)
from core.model.graph import Graph
from core.model.node import Edge


@pytest.fixture
def chain():
    g = Graph()
    nodes = [g.add("Input", shape=[4]), g.add("Linear", out_features=3), g.add("ReLU"), g.add("Output")]
    g.chain(nodes)
    return g, nodes


def test_names_ids_and_order(chain):
    g, (x, fc, relu, out) = chain
    assert [n.name for n in g.nodes] == ["x", "fc1", "relu1", "output"]
    assert len({n.id for n in g.nodes}) == 4
    assert g.topological_order() == [x.id, fc.id, relu.id, out.id]
    assert g.upstream(relu.id) == {x.id, fc.id}
    assert g.downstream(fc.id) == {relu.id, out.id}
    assert g.inputs_of(relu.id) == [Edge(fc.id, relu.id)]
    assert [e.dst for e in g.consumers(x.id)] == [fc.id]


def test_connection_rules_name_the_nodes(chain):
    g, (x, fc, relu, out) = chain
    with pytest.raises(CycleError, match="relu1 to fc1 would make a cycle"):
        g.connect(Edge(relu.id, fc.id))
    with pytest.raises(SelfConnectionError, match="fc1 cannot be connected to itself"):
        g.connect(Edge(fc.id, fc.id))
    with pytest.raises(PortAlreadyConnectedError, match="already connected"):
        g.connect(Edge(x.id, relu.id))
    with pytest.raises(PortError, match="output has no output to connect from"):
        g.connect(Edge(out.id, fc.id))
    with pytest.raises(PortError, match="no input 2"):
        g.connect(Edge(x.id, fc.id, dst_port=1))
    with pytest.raises(CycleError, match="would make a cycle"):
        g.check_connect(Edge(relu.id, fc.id))
    assert len(g.edges) == 3


def test_remove_requires_disconnect_and_disconnect_returns_index(chain):
    g, (x, fc, relu, out) = chain
    with pytest.raises(GraphError, match="still has wires"):
        g.remove_node(fc.id)
    edge = Edge(fc.id, relu.id)
    assert g.disconnect(edge) == 1
    g.connect(edge, index=1)
    assert g.edges[1] == edge


def test_signals_fire_for_every_change(chain):
    g, (x, fc, relu, out) = chain
    seen = []
    for kind in ("params", "name", "pos"):
        getattr(g, f"{kind}_changed").connect(lambda nid, kind=kind: seen.append((nid, kind)))
    g.edge_removed.connect(lambda e: seen.append(("removed", e)))
    g.node_removed.connect(lambda n: seen.append(("node", n.id)))
    g.set_param(fc.id, "out_features", 8)
    g.set_name(fc.id, "hidden")
    g.set_pos(fc.id, (10, 20))
    g.disconnect(Edge(relu.id, out.id))
    g.remove_node(out.id)
    assert seen == [
        (fc.id, "params"),
        (fc.id, "name"),
        (fc.id, "pos"),
        ("removed", Edge(relu.id, out.id)),
        ("node", out.id),
    ]
    assert g.node(fc.id).pos == (10.0, 20.0)


def test_each_node_edit_emits_exactly_its_own_signal(chain):
    """params_changed, name_changed and pos_changed: one signal per kind, once per edit, and ``changed`` after
    every edit that can change shapes or code (a move cannot)."""
    from core.model.block_edits import expose_arg, make_block

    g, (x, fc, relu, out) = chain
    seen: list[tuple[str, str]] = []
    for kind in ("params", "name", "pos"):
        getattr(g, f"{kind}_changed").connect(lambda nid, kind=kind: seen.append((kind, nid)))
    g.changed.connect(lambda: seen.append(("changed", "")))
    made = make_block(g, [fc.id, relu.id], "Head")
    assert made.instance is not None and made.definition is not None
    block = made.instance
    expose_arg(made.definition, fc.id, "out_features", "width")
    edits = [
        (lambda: g.set_param(x.id, "shape", [5]), [("params", x.id), ("changed", "")]),
        (lambda: g.set_params(x.id, {"shape": [6]}), [("params", x.id), ("changed", "")]),
        (lambda: g.set_param(block.id, "width", 8), [("params", block.id), ("changed", "")]),
        (lambda: g.set_repeat(block.id, 2), [("params", block.id), ("changed", "")]),
        (lambda: g.set_name(x.id, "image"), [("name", x.id), ("changed", "")]),
        (lambda: g.set_pos(x.id, (10, 20)), [("pos", x.id)]),
    ]
    for edit, expected in edits:
        seen.clear()
        edit()
        assert seen == expected


def test_param_and_name_validation(chain):
    g, (x, fc, relu, out) = chain
    with pytest.raises(ParameterError, match="fc1: out_features must be at least 1"):
        g.set_param(fc.id, "out_features", 0)
    with pytest.raises(ParameterError, match="has no parameter"):
        g.set_param(fc.id, "units", 3)
    with pytest.raises(InvalidNameError):
        g.set_name(fc.id, "eval")
    with pytest.raises(GraphError, match="already used"):
        g.set_name(fc.id, "relu1")
    g.set_param(fc.id, "in_features", 4)
    assert g.node(fc.id).params["in_features"] == 4
    g.set_param(fc.id, "in_features", None)  # unpin
    assert "in_features" not in g.node(fc.id).params


def test_merge_ports_follow_num_inputs():
    g = Graph()
    a, b, c = g.add("Input", shape=[4]), g.add("ReLU"), g.add("Tanh")
    add = g.add("Add", num_inputs=3)
    g.connect(Edge(a.id, b.id))
    g.connect(Edge(a.id, c.id))
    g.connect(Edge(b.id, add.id, 0))
    g.connect(Edge(c.id, add.id, 2))
    assert g.inputs_of(add.id)[1] is None
    with pytest.raises(GraphError, match="remove the wires"):
        g.set_param(add.id, "num_inputs", 2)


def test_copy_is_independent(chain):
    g, (x, fc, relu, out) = chain
    other = g.copy()
    other.set_param(fc.id, "out_features", 99)
    assert g.node(fc.id).params["out_features"] == 3
    assert other.to_dict()["edges"] == g.to_dict()["edges"]
    assert other.create_node("ReLU").id not in {n.id for n in g.nodes}


def test_copy_has_its_own_block_library():
    """A trial edit on a copy (the GUI's connect check, paste's shadow graph) must not change the original's
    block definitions: copy() used to share the library dict and every definition in it."""
    from core.model.block_edits import expose_arg
    from core.model.blocks import new_instance
    from core.model.builtin_blocks import add_builtin

    g = Graph()
    add_builtin(g.blocks, "BasicBlock")
    g.add_node(new_instance(g, g.blocks["BasicBlock"], (0.0, 0.0)))
    before = {name: defn.graph.to_dict() for name, defn in g.blocks.items()}
    args_before = [a.name for a in g.blocks["BasicBlock"].args]
    other = g.copy()
    defn = other.blocks["BasicBlock"]
    assert defn.graph.blocks is other.blocks  # the copied definitions share the copied library
    conv = next(n for n in defn.graph.nodes if n.type == "Conv2d")
    expose_arg(defn, conv.id, "kernel_size", "k")
    defn.graph.set_param(conv.id, "bias", True)
    other.blocks.pop("BasicBlock")
    assert "BasicBlock" in g.blocks
    assert {name: d.graph.to_dict() for name, d in g.blocks.items()} == before
    assert [a.name for a in g.blocks["BasicBlock"].args] == args_before
    assert (conv.id, "kernel_size") not in g.blocks["BasicBlock"].bindings


def _scanned(g: Graph, node_id: str) -> tuple[list[Edge], list[Edge], list[Edge | None]]:
    """What the per-node queries must answer, found by scanning every wire (as they did before the index)."""
    touching = [e for e in g.edges if node_id in (e.src, e.dst)]
    ports: list[Edge | None] = [None] * g.node(node_id).input_count()
    for e in touching:
        if e.dst == node_id:
            ports[e.dst_port] = e
    return touching, [e for e in touching if e.src == node_id], ports


def test_per_node_wire_index_follows_every_edit_and_undo_order():
    """edges_of / consumers / inputs_of read a per-node index; it must agree with the wire list, in wire order,
    after connects, disconnects, wires put back at their old index (undo), and nodes removed and re-added."""
    import random

    rng = random.Random(7)
    g = Graph()
    x = g.add("Input", shape=[4])
    nodes = [x] + [g.add(rng.choice(["ReLU", "Tanh"])) for _ in range(6)] + [g.add("Add", num_inputs=3)]
    for _ in range(300):
        ids = [n.id for n in g.nodes]
        src, dst = rng.sample(ids, 2)
        port = rng.randrange(max(1, g.node(dst).input_count()))
        edges = g.edges
        action = rng.random()
        if action < 0.5:
            try:
                g.connect(Edge(src, dst, port), rng.choice([None, rng.randrange(len(edges) + 1)]))
            except GraphError:
                pass
        elif edges and action < 0.8:
            edge = rng.choice(edges)
            index = g.disconnect(edge)
            if rng.random() < 0.5:
                g.connect(edge, index)  # undo: back in place
                assert g.edges == edges
        else:
            node = g.node(rng.choice(ids[1:]))
            wires = g.edges_of(node.id)
            indexes = [g.disconnect(e) for e in wires]
            position = g.index_of(node.id)
            g.remove_node(node.id)
            g.add_node(node, position)
            for edge, index in reversed(list(zip(wires, indexes, strict=True))):
                g.connect(edge, index)
            assert g.edges == edges
        for n in g.nodes:
            assert (g.edges_of(n.id), g.consumers(n.id), g.inputs_of(n.id)) == _scanned(g, n.id)
    assert len(g.edges) > 3 and len(nodes) == len(g)


def test_check_connect_replacing_the_wire_in_the_input():
    """The rule the editor's replace-a-wire asks (it used to copy the graph and disconnect on the copy): the
    occupied input is no reason when its wire is the one being replaced; every other rule still holds."""
    g = Graph()
    x, a, b = g.add("Input", shape=[4]), g.add("ReLU"), g.add("Tanh")
    g.chain([x, a, b])
    old = g.inputs_of(b.id)[0]
    assert old is not None
    with pytest.raises(PortAlreadyConnectedError):
        g.check_connect(Edge(x.id, b.id))
    g.check_connect(Edge(x.id, b.id), replacing=old)
    with pytest.raises(CycleError):
        g.check_connect(Edge(b.id, a.id), replacing=g.inputs_of(a.id)[0])
    assert g.edges == [Edge(x.id, a.id), old]
