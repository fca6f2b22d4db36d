import random
import shutil
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from core.code.codegen import CodegenError, generate_model, literal
from core.files.project import load
from core.model.analysis import analyze
from core.model.catalog import LAYERS
from core.model.graph import Graph
from tests.conftest import EXAMPLES
from tests.core.graphs import hypothesis_draw, random_draw, random_graph
from tests.core.mnist_net import Net

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def instantiate(code):
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return namespace[code.class_name]()


def sample_input(graph, batch=2):
    node = graph.nodes_of_type("Input")[0]
    shape = (batch, *node.params["shape"])
    if node.params.get("dtype") == "int64":
        return torch.zeros(shape, dtype=torch.long)
    return torch.randn(shape)


def check_forward_matches_inference(graph):
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    code = generate_model(graph, analysis=analysis)
    model = instantiate(code).eval()
    x = sample_input(graph)
    with torch.no_grad():
        y = model(x.clone())
    expected = analysis.output_shapes(graph)[0]
    assert tuple(y.shape) == (2, *expected[1:]), code.source
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params, code.source
    check_in_place_changes_no_result(graph, model, x, code.source)
    return code


def check_in_place_changes_no_result(graph, model, x, source):
    """In place only saves memory: the network with every inplace turned off and the same weights gives the same
    output, evaluating and training (where Dropout writes in place and the backward pass checks what was
    overwritten). A graph the analysis passes where it does not is a wrong result nobody is told about."""
    plain = graph.copy()
    for node in plain.nodes:
        if node.params.get("inplace"):
            plain.set_param(node.id, "inplace", False)
    if plain.to_dict() == graph.to_dict():
        return
    other = instantiate(generate_model(plain)).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(model(x.clone()), other(x.clone())), source
    results = []
    for net in (model, other):
        net.train()
        torch.manual_seed(0)
        y = net(x.clone())
        if y.requires_grad:
            y.float().sum().backward()
        results.append(y.detach())
    assert torch.equal(*results), source


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_generates_code_whose_forward_matches_inference(path):
    check_forward_matches_inference(load(path).graph)


def test_there_are_enough_examples():
    assert {p.stem for p in EXAMPLE_FILES} >= {
        "digits_mlp",
        "mnist_mlp",
        "mnist_cnn",
        "spirals",
        "residual_cnn",
        "digits_lstm",
    }


@pytest.mark.slow
@settings(max_examples=200)
@given(st.data())
def test_random_valid_graphs_generate_matching_code(data):
    check_forward_matches_inference(random_graph(hypothesis_draw(data)))


def one_graph_per_layer() -> dict:
    """layer id -> a random valid graph that uses it (seeded, so every run checks the same graphs)."""
    rng = random.Random(13)
    found: dict = {}
    for _ in range(4000):
        graph = random_graph(random_draw(rng))
        for node in graph.nodes:
            found.setdefault(node.type, graph)
        if len(found) == len(LAYERS):
            break
    return found


@pytest.mark.slow
def test_random_graphs_reach_every_layer_and_each_generates_matching_code():
    """The generators pick every catalog layer (new ones included), and each one's code matches inference."""
    found = one_graph_per_layer()
    assert sorted(set(LAYERS) - set(found)) == []
    for _layer, graph in sorted(found.items()):
        check_forward_matches_inference(graph)


@pytest.mark.slow
def test_generated_code_passes_ruff_unchanged(tmp_path):
    ruff = shutil.which("ruff") or str(__import__("pathlib").Path(sys.executable).with_name("ruff"))
    sources = [generate_model(load(p).graph, title=load(p).name).source for p in EXAMPLE_FILES]
    rng = random.Random(7)
    sources += [generate_model(random_graph(random_draw(rng), max_layers=10)).source for _ in range(80)]
    sources += [generate_model(graph).source for graph in one_graph_per_layer().values()]
    for i, source in enumerate(sources):
        (tmp_path / f"model_{i}.py").write_text(source)
    for args in (["check", "--isolated", "--select", "E,F,W,I"], ["format", "--isolated", "--check"]):
        result = subprocess.run([ruff, *args, str(tmp_path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_mlp_reads_like_handwritten_code():
    source = generate_model(load(EXAMPLES / "mnist_mlp.json").graph).source
    assert "self.fc1 = nn.Linear(784, 512)" in source
    assert "x = self.fc1(x)  # [N, 512]" in source
    assert "def forward(self, x: torch.Tensor) -> torch.Tensor:" in source
    assert source.rstrip().endswith("return x")


def test_residual_uses_plain_addition():
    source = generate_model(load(EXAMPLES / "residual_cnn.json").graph).source
    # the skip kept as identity where it is made, the main path in out, as torchvision names them (issue 24, R15)
    assert "        identity = x\n        out = self.conv2(x)  # [N, 16, 8, 8]\n" in source
    assert "x = out + identity  # [N, 16, 8, 8]" in source


def test_residual_blocks_are_one_class_with_an_optional_downsample_as_torchvision_writes_it():
    """Issue 24: BasicBlock and BasicBlockDown were two classes whose forward read ``x1 = self.conv1(x)`` ...
    ``x = self.downsample(x)``, ``x = x1 + x``; torchvision writes one BasicBlock with ``downsample=None``, ``out``
    for the main path and ``identity`` for the shortcut, and a stage passes the shortcut to its first block."""
    graph = load(EXAMPLES / "resnet_small.json").graph
    source = generate_model(graph).source
    assert "class BasicBlockDown" not in source
    block = source[source.index("class BasicBlock(") : source.index("class Net(")]
    assert "downsample: nn.Module | None = None," in block and "self.downsample = downsample" in block
    forward = block[block.index("def forward") :]
    assert "out = self.conv1(x)" in forward and "out = self.bn2(out)" in forward and "x1" not in forward
    assert forward.splitlines()[1:3] == ["        identity = x", "        out = self.conv1(x)"]  # first, as torchvision
    expected = "        if self.downsample is not None:\n            identity = self.downsample(x)\n"
    assert "        out = self.bn2(out)\n" + expected + "        out = out + identity\n" in forward
    assert "downsample=nn.Sequential(" in source
    # the weights of the two drawings load strictly: the same keys, named as before
    namespace: dict = {}
    exec(compile(source, "<resnet_small>", "exec"), namespace)
    keys = set(namespace["Net"]().state_dict())
    assert {"layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer2.1.conv1.weight"} <= keys
    assert not any(k.startswith(("layer1.0.downsample", "layer2.1.downsample")) for k in keys)


def test_line_to_node_points_at_the_layer():
    graph = load(EXAMPLES / "mnist_mlp.json").graph
    code = generate_model(graph)
    lines = code.source.splitlines()
    fc1 = graph.by_name("fc1").id
    assert {lines[n - 1].strip() for n, nid in code.line_to_node.items() if nid == fc1} == {
        "self.fc1 = nn.Linear(784, 512)",
        "x = self.fc1(x)  # [N, 512]",
    }


class HandMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.flatten(x))))


@pytest.mark.parametrize(("example", "hand"), [("mnist_mlp", HandMLP), ("mnist_cnn", Net)])
def test_generated_equals_handwritten_with_copied_weights(example, hand):
    torch.manual_seed(0)
    reference = hand().eval()
    generated = instantiate(generate_model(load(EXAMPLES / f"{example}.json").graph)).eval()
    ours, theirs = list(generated.parameters()), list(reference.parameters())
    assert [p.shape for p in ours] == [p.shape for p in theirs]
    with torch.no_grad():
        for mine, ref in zip(ours, theirs):
            mine.copy_(ref)
        x = torch.randn(16, 1, 28, 28)
        assert torch.equal(generated(x), reference(x))


def test_invalid_graph_raises_with_the_problems():
    g = Graph()
    g.add("Linear")
    with pytest.raises(CodegenError, match="no Input node"):
        generate_model(g)


@pytest.mark.parametrize("value", ["a'b", "x\n", "é", {"a": 1}, object()])
def test_literal_refuses_anything_unexpected(value):
    with pytest.raises(CodegenError):
        literal(value)


def test_literal_of_validated_values():
    assert [literal(v) for v in (3, 0.25, True, None, "nearest", [3, 5], [7])] == [
        "3",
        "0.25",
        "True",
        "None",
        '"nearest"',
        "(3, 5)",
        "(7,)",
    ]


def test_names_never_shadow_in_forward():
    g = Graph()
    x = g.add("Input", name="inputs", shape=[3])
    fc = g.add("Linear", name="fc", out_features=2)
    out = g.add("Output")
    g.chain([x, fc, out])
    source = generate_model(g).source
    assert "def forward(self, inputs: torch.Tensor)" in source
    compile(source, "<gen>", "exec")
