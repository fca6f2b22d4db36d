"""An in-place layer is refused in words where torch would overwrite memory something else reads: a learned
tensor expanded over the batch (torch's cryptic error at the first forward) or an input that also feeds another
layer (a silently wrong result). Where nothing else reads it, in place stays allowed."""

import pytest
import torch
from torch import nn

from core.code.codegen import CodegenError, generate_model
from core.model.analysis import analyze
from core.model.block_edits import make_block
from core.model.graph import Graph
from core.model.node import Edge


def build(graph: Graph) -> nn.Module:
    code = generate_model(graph)
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return namespace[code.class_name]().eval()


def run(graph: Graph, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return build(graph)(x)


def errors(graph: Graph) -> list[tuple[str | None, str]]:
    return [(p.node_id, p.message) for p in analyze(graph).errors]


def learned_then(layer: str, *views: str, **params) -> tuple[Graph, list]:
    graph = Graph()
    nodes = [graph.add("Input", shape=[4]), graph.add("LearnedTensor", shape=[1, 4])]
    nodes += [graph.add(view) for view in views]
    nodes += [graph.add(layer, **params), graph.add("Output")]
    graph.chain(nodes)
    return graph, nodes


def test_an_in_place_activation_on_a_learned_tensor_is_refused_naming_both_and_the_fix():
    graph, (_, param, hardtanh, _) = learned_then("Hardtanh", inplace=True)
    assert errors(graph) == [
        (
            hardtanh.id,
            f"{hardtanh.name} overwrites its input in place, but its input is {param.name}'s learned tensor, one "
            "memory shared by every sample of the batch, which torch refuses to overwrite. "
            f"Turn off inplace on {hardtanh.name}.",
        )
    ]
    with pytest.raises(CodegenError, match="Turn off inplace"):
        generate_model(graph)
    graph.set_param(hardtanh.id, "inplace", False)  # the fix the message names: the network runs
    assert errors(graph) == []
    assert run(graph, torch.randn(3, 4)).shape == (3, 4)


@pytest.mark.parametrize("layer", ["ReLU", "Dropout", "SiLU"])
def test_any_layer_that_writes_in_place_is_refused_on_a_learned_tensor_even_through_views(layer):
    graph, nodes = learned_then(layer, "Identity", "Reshape", inplace=True)
    [(node_id, message)] = errors(graph)
    assert node_id == nodes[-2].id
    assert f"through {nodes[2].name}, {nodes[3].name}) is {nodes[1].name}'s learned tensor" in message


def skip_connection(*views: str, inplace: bool = True) -> tuple[Graph, list]:
    """Input -> Linear -> [views] -> ReLU -> Add(relu, linear) -> Output: the Linear's output goes to two layers."""
    graph = Graph()
    inp, linear = graph.add("Input", shape=[4]), graph.add("Linear", out_features=4)
    chain = [inp, linear, *(graph.add(v) for v in views), graph.add("ReLU", inplace=inplace)]
    add, out = graph.add("Add"), graph.add("Output")
    graph.chain(chain)
    graph.connect(Edge(chain[-1].id, add.id, 0))
    graph.connect(Edge(linear.id, add.id, 1))
    graph.connect(Edge(add.id, out.id))
    return graph, [linear, chain[-1], add]


def test_an_in_place_activation_whose_input_also_feeds_a_skip_connection_is_refused():
    """Before, the code ran and returned relu(h) + relu(h) instead of relu(h) + h without a word."""
    graph, (linear, relu, add) = skip_connection()
    assert errors(graph) == [
        (
            relu.id,
            f"{relu.name} overwrites its input in place, but its input is {linear.name}'s output, which also goes to "
            f"{add.name}: {add.name} would read {relu.name}'s result instead. Turn off inplace on {relu.name}.",
        )
    ]
    fixed, _ = skip_connection(inplace=False)  # the fix the message names: the sum the wires say
    model, x = build(fixed), torch.randn(3, 4)
    with torch.no_grad():
        h = next(m for m in model.modules() if isinstance(m, nn.Linear))(x)
        assert torch.equal(model(x), torch.relu(h) + h)


def test_the_skip_connection_is_found_through_views_of_the_shared_output():
    graph, (linear, relu, add) = skip_connection("Identity", "Flatten")
    [(node_id, message)] = errors(graph)
    assert node_id == relu.id
    assert f"is {linear.name}'s output, which also goes to {add.name}" in message


def test_only_the_first_in_place_layer_of_a_row_is_named():
    """relu2 overwrites relu6's memory, which is the Linear's; turning off relu6's inplace fixes both."""
    graph, (linear, relu, add) = skip_connection()
    graph.set_param(relu.id, "inplace", False)
    relu6 = graph.add("ReLU6", inplace=True)
    graph.disconnect(Edge(linear.id, relu.id))
    graph.chain([linear, relu6, relu])
    graph.set_param(relu.id, "inplace", True)
    assert [node_id for node_id, _ in errors(graph)] == [relu6.id]


@pytest.mark.parametrize(
    ("before", "params"), [("Sigmoid", {}), ("Softmax", {}), ("ReLU", {}), ("ELU", {"inplace": True})]
)
def test_an_in_place_layer_after_one_that_keeps_its_output_for_learning_is_refused(before, params):
    """Torch's backward pass of Sigmoid (or of relu_, elu_ ...) reads its output again: overwriting it stopped the
    first training step with "one of the variables needed for gradient computation has been modified"."""
    graph = Graph()
    linear, kept, relu = graph.add("Linear", out_features=4), graph.add(before, **params), graph.add("ReLU6")
    graph.set_param(relu.id, "inplace", True)
    graph.chain([graph.add("Input", shape=[4]), linear, kept, relu, graph.add("Output")])
    [(node_id, message)] = [e for e in errors(graph) if e[0] == relu.id]
    assert f"is {kept.name}'s output, which torch keeps to send the gradient back through {kept.name}" in message
    graph.set_param(relu.id, "inplace", False)
    model = build(graph).train()
    model(torch.randn(2, 4)).sum().backward()  # the fix the message names: training runs


def test_in_place_where_nothing_else_reads_the_memory_stays_allowed():
    """torchvision's own uses: after a batch norm, after the Add of a residual block, and an in-place layer whose
    OUTPUT goes to two layers (it is new memory nobody else read)."""
    graph = Graph()
    inp = graph.add("Input", shape=[3, 8, 8])
    conv, bn, relu = graph.add("Conv2d", out_channels=3, padding=1), graph.add("BatchNorm2d"), graph.add("ReLU")
    graph.set_param(relu.id, "inplace", True)
    add, relu2 = graph.add("Add"), graph.add("ReLU", inplace=True)
    conv2, add2, out = graph.add("Conv2d", out_channels=3, padding=1), graph.add("Add"), graph.add("Output")
    graph.chain([inp, conv, bn, relu])
    graph.connect(Edge(relu.id, add.id, 0))
    graph.connect(Edge(inp.id, add.id, 1))  # the skip connection reads the Input, not what relu overwrites
    graph.chain([add, relu2, conv2])
    graph.connect(Edge(conv2.id, add2.id, 0))
    graph.connect(Edge(relu2.id, add2.id, 1))  # relu2's output goes to two layers
    graph.connect(Edge(add2.id, out.id))
    assert errors(graph) == []
    assert run(graph, torch.randn(2, 3, 8, 8)).shape == (2, 3, 8, 8)


def test_an_unused_branch_does_not_count_as_a_reader():
    graph = Graph()
    linear, relu = graph.add("Linear", out_features=4), graph.add("ReLU", inplace=True)
    graph.chain([graph.add("Input", shape=[4]), linear, relu, graph.add("Output")])
    graph.connect(Edge(linear.id, graph.add("Linear", out_features=2).id))  # left out of the code: a warning only
    assert errors(graph) == []
    assert [p.severity for p in analyze(graph).problems] == ["warning"]


def test_a_conflict_inside_a_block_is_reported_on_the_instance():
    graph, (linear, relu, add) = skip_connection()
    instance = make_block(graph, [linear.id, relu.id, add.id], "Residual").instance
    [(node_id, message)] = errors(graph)
    assert node_id == instance.id
    assert "inside block Residual" in message and f"Turn off inplace on {relu.name}" in message
