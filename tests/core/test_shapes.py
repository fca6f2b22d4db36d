import pytest

from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.node import Edge
from core.model.shape_rules import fmt


def build(*layers, shape=(1, 28, 28), dtype="float32"):
    g = Graph()
    nodes = [g.add("Input", shape=list(shape), dtype=dtype)]
    for layer, params in layers:
        nodes.append(g.add(layer, **params))
    nodes.append(g.add("Output"))
    g.chain(nodes)
    return g, nodes


def messages(g):
    return [p.message for p in analyze(g).errors]


def test_cnn_shapes_and_auto_params():
    g, nodes = build(
        ("Conv2d", {"out_channels": 32, "kernel_size": 3}),
        ("ReLU", {}),
        ("Conv2d", {"out_channels": 64, "kernel_size": 3}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Flatten", {}),
        ("Linear", {"out_features": 128}),
        ("Linear", {"out_features": 10}),
    )
    a = analyze(g)
    assert a.ok
    assert [fmt(a.shape(n.id)) for n in nodes] == [
        "[N, 1, 28, 28]",
        "[N, 32, 26, 26]",
        "[N, 32, 26, 26]",
        "[N, 64, 24, 24]",
        "[N, 64, 12, 12]",
        "[N, 9216]",
        "[N, 128]",
        "[N, 10]",
        "[N, 10]",
    ]
    assert a.nodes[nodes[1].id].auto == {"in_channels": 1}
    assert a.nodes[nodes[6].id].params["in_features"] == 9216
    assert a.total_params == 320 + 18496 + 9216 * 128 + 128 + 1290


def test_linear_after_conv_without_flatten_says_what_to_do():
    g, nodes = build(("Conv2d", {"out_channels": 64, "kernel_size": 17}), ("Linear", {"in_features": 9216}))
    g.set_name(nodes[2].id, "fc1")
    assert messages(g) == ["fc1 expects 9216 features but receives [N, 64, 12, 12]: add a Flatten before it"]
    g.set_param(nodes[2].id, "in_features", 784)
    assert messages(g) == [
        "fc1 expects 784 features but receives [N, 64, 12, 12]: add a Flatten before it and set "
        "in_features to 9216 (or unpin it so it follows the input)"
    ]
    g2, n2 = build(("Flatten", {}), ("Linear", {"in_features": 100}))
    assert "set in_features to 784" in messages(g2)[0]


@pytest.mark.parametrize(
    ("layers", "shape", "expected"),
    [
        (
            [("Conv2d", {})],
            (784,),
            "conv1 expects images [N, C, H, W] but receives [N, 784]: add an Unflatten with "
            "unflattened_size [1, 28, 28] before it",
        ),
        ([("Conv2d", {})], (28, 28), "set the Input shape to [1, 28, 28]"),
        ([("Conv2d", {"kernel_size": 5})], (1, 3, 3), "kernel (5x5) is larger than its input"),
        ([("Conv2d", {"in_channels": 3})], (1, 8, 8), "conv1 expects 3 input channels but receives [N, 1, 8, 8]"),
        ([("MaxPool2d", {"kernel_size": 4})], (1, 2, 2), "window (4x4) is larger than its input"),
        ([("GroupNorm", {"num_groups": 8})], (30, 4, 4), "set num_groups to one of 1, 2, 3, 5, 6, 10, 15, 30"),
        ([("LSTM", {})], (784,), "lstm1 expects sequences [N, T, features]"),
        ([("Linear", {})], (5,), None),
        ([("Embedding", {})], (5,), "looks up whole-number token ids but receives decimal numbers"),
        ([("Reshape", {"shape": [5, -1]})], (12,), "12 is not divisible by 5"),
        ([("Unflatten", {"unflattened_size": [2, 5]})], (12,), "the sizes must multiply to 12"),
        ([("Softmax", {"dim": 0})], (10,), "dim 0 is the batch dimension"),
        ([("Permute", {"dims": [1, 1]})], (3, 4), "must list each of [1, 2] once"),
        ([("BatchNorm2d", {})], (10,), "use BatchNorm1d for features"),
        ([("LSTM", {"dropout": 0.5})], (5, 3), "dropout only acts between stacked layers"),
    ],
)
def test_errors_are_plain_and_name_the_node(layers, shape, expected):
    g, _ = build(*layers, shape=shape)
    got = messages(g)
    if expected is None:
        assert got == []
    else:
        assert len(got) == 1 and expected in got[0], got
        assert "mat1" not in got[0]


def test_token_ids_must_go_through_an_embedding():
    g, nodes = build(("Linear", {}), shape=(5,), dtype="int64")
    assert "add an Embedding layer before it" in messages(g)[0]
    g, nodes = build(
        ("Embedding", {"num_embeddings": 50, "embedding_dim": 8}),
        ("LSTM", {"hidden_size": 16}),
        shape=(7,),
        dtype="int64",
    )
    a = analyze(g)
    assert a.ok and fmt(a.shape(nodes[-1].id)) == "[N, 16]"


def test_merge_mismatch_names_both_sources():
    g = Graph()
    x = g.add("Input", shape=[8])
    a, b = g.add("Linear", out_features=4), g.add("Linear", out_features=5)
    add, out = g.add("Add"), g.add("Output")
    for edge in (
        Edge(x.id, a.id),
        Edge(x.id, b.id),
        Edge(a.id, add.id, 0),
        Edge(b.id, add.id, 1),
        Edge(add.id, out.id),
    ):
        g.connect(edge)
    assert messages(g) == [
        "add1 adds tensors of different shapes [N, 4] (from fc1) and [N, 5] (from fc2): they "
        "must be the same shape; change the layers before it so they match"
    ]
    g.set_param(b.id, "out_features", 4)
    assert analyze(g).ok
    g.set_params(add.id, {})
    cat = g.add("Concat", dim=1)
    g.disconnect(Edge(add.id, out.id))
    g.connect(Edge(add.id, cat.id, 0))
    g.connect(Edge(x.id, cat.id, 1))
    g.connect(Edge(cat.id, out.id))
    assert fmt(analyze(g).shape(cat.id)) == "[N, 12]"


def test_structural_problems():
    g = Graph()
    fc = g.add("Linear")
    msgs = [p.message for p in analyze(g).problems]
    assert any("no Input node" in m for m in msgs)
    assert any("no Output node" in m for m in msgs)
    assert any(m.startswith("fc1's input is not connected") for m in msgs)
    x, out, relu = g.add("Input", shape=[3]), g.add("Output"), g.add("ReLU")
    g.connect(Edge(x.id, fc.id))
    g.connect(Edge(fc.id, out.id))
    g.connect(Edge(x.id, relu.id))
    a = analyze(g)
    assert a.ok
    assert [p.message for p in a.problems] == [
        "relu1's output is not used, so it is left out of the code: connect it to the next layer or to the Output, "
        "or delete it."
    ]
    assert relu.id not in a.order
