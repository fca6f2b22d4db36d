"""Each gap is reported once, where it is, in the words a beginner needs ("not connected", not "shape error")."""

from core.model.analysis import analyze, status
from core.model.graph import Graph
from core.model.node import Edge


def mlp():
    g = Graph()
    nodes = [
        g.add("Input", shape=[64]),
        g.add("Linear", out_features=32),
        g.add("ReLU"),
        g.add("Linear", out_features=10),
        g.add("Output"),
    ]
    g.chain(nodes)
    return g, nodes


def test_deleting_the_output_gives_one_problem():
    g, nodes = mlp()
    out = nodes[-1]
    for edge in g.edges_of(out.id):
        g.disconnect(edge)
    g.remove_node(out.id)
    problems = analyze(g).problems
    assert [p.message for p in problems] == [
        "The network has no Output node: add one from the Output group and connect the last layer to it."
    ]


def test_an_unused_branch_is_named_at_its_dead_end_only():
    g, nodes = mlp()
    extra = [g.add("Linear", out_features=4), g.add("ReLU")]
    g.connect(Edge(nodes[2].id, extra[0].id))
    g.connect(Edge(extra[0].id, extra[1].id))
    problems = analyze(g).problems
    assert [(p.node_id, p.severity, p.kind) for p in problems] == [(extra[1].id, "warning", "unconnected")]


def test_a_dropped_node_is_not_connected_once():
    g, _ = mlp()
    loose = g.add("Conv2d")
    problems = analyze(g).problems_of(loose.id)
    assert [p.message for p in problems] == [
        "conv1 is not connected: drag a wire from the previous layer's output to its input and one from its "
        "output to the next layer, or delete it."
    ]
    assert status(problems) == "not connected"


def test_a_cut_wire_is_reported_at_the_cut_not_at_every_layer_after_it():
    g, nodes = mlp()
    g.disconnect(Edge(nodes[1].id, nodes[2].id))
    problems = analyze(g).problems
    assert [(p.node_id, p.kind) for p in problems if p.severity == "error"] == [(nodes[2].id, "unconnected")]
    assert status(analyze(g).problems_of(nodes[2].id)) == "not connected"
    assert status(analyze(g).problems_of(nodes[3].id)) is None  # waits for its input; nothing wrong with it


def test_no_input_is_one_problem():
    g, nodes = mlp()
    for edge in g.edges_of(nodes[0].id):
        g.disconnect(edge)
    g.remove_node(nodes[0].id)
    messages = [p.message for p in analyze(g).problems]
    assert messages[0].startswith("The network has no Input node")
    assert "relu1 is not reachable" not in " ".join(messages)
    assert [p.kind for p in analyze(g).problems[1:]] == ["unconnected"]  # fc1's open input, nothing else


def test_shape_errors_say_shape_error():
    g, nodes = mlp()
    g.set_param(nodes[1].id, "in_features", 10)
    problems = analyze(g).problems_of(nodes[1].id)
    assert status(problems) == "shape error" and problems[0].kind == "shape"


def test_linear_on_more_than_two_dims_is_a_warning_on_the_node():
    g = Graph()
    nodes = [
        g.add("Input", shape=[1, 8, 8]),
        g.add("Conv2d", out_channels=4, kernel_size=3),
        g.add("Linear", out_features=10),
        g.add("Output"),
    ]
    g.chain(nodes)
    analysis = analyze(g)
    assert analysis.ok
    (note,) = analysis.problems_of(nodes[2].id)
    assert note.severity == "warning"
    assert note.message == (
        "fc1 receives [N, 4, 6, 6] and acts on its last axis only (6 features, the other dimensions are kept): "
        "add a Flatten before it to use all 144 values per sample"
    )
    assert status([note]) is None


def test_linear_on_tokens_of_a_sequence_stays_a_warning():
    g = Graph()
    nodes = [
        g.add("Input", shape=[12], dtype="int64"),
        g.add("Embedding", num_embeddings=50, embedding_dim=16),
        g.add("Linear", out_features=16),
        g.add("Output"),
    ]
    g.chain(nodes)
    analysis = analyze(g)
    assert analysis.ok and analysis.shape(nodes[3].id) == (None, 12, 16)
    assert [p.severity for p in analysis.problems] == ["warning"]
