"""An in-place layer whose overwrite crosses a block's boundary: the block writes its input in place while the
input also goes elsewhere, a layer outside writes in place into a block's output that is a view of the block's
input, or into one that a layer inside keeps for its backward pass. Each is proved with the generated code (the
model the app trains, with the layer's ``inplace`` switched on in torch, since the analysis refuses to write it) and
refused in words naming the instance, the layer inside and the other reader. Where nothing else reads the memory,
in place inside a block stays allowed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.code.codegen import CodegenError, generate_model
from core.model.analysis import analyze
from core.model.block_edits import expose_arg, make_block
from core.model.graph import Graph
from core.model.node import Edge, Node


def build(graph: Graph) -> nn.Module:
    code = generate_model(graph)
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    torch.manual_seed(0)
    return namespace[code.class_name]()


def errors(graph: Graph) -> list[tuple[str | None, str]]:
    return [(p.node_id, p.message) for p in analyze(graph).errors]


def the_faulty_model(graph: Graph, layer: Node, block: str = "") -> tuple[nn.Module, nn.Module]:
    """The model as the wires say (``layer``'s inplace off, in ``block``'s definition if given) and the one the
    refused graph would generate: the same code with that layer's module overwriting its input
    (``nn.ReLU(inplace=True)`` is ``nn.ReLU()`` with its ``inplace`` attribute set)."""
    (graph.blocks[block].graph if block else graph).set_param(layer.id, "inplace", False)
    assert errors(graph) == []
    right, wrong = build(graph), build(graph)
    wrong.load_state_dict(right.state_dict())
    switched = [m for m in wrong.modules() if type(m).__name__ == layer.type]
    assert len(switched) == 1, "the proof switches exactly the refused layer"
    switched[0].inplace = True
    return right, wrong


def first_layer_in_place() -> tuple[Graph, dict[str, Node]]:
    """Input -> linear -> [pre: relu(inplace) -> inner] -> add(pre, linear) -> Output: the block's first layer
    overwrites the block's input, which the skip connection outside also reads."""
    graph = Graph()
    inp, linear = graph.add("Input", shape=[4]), graph.add("Linear", "linear", out_features=4)
    relu, inner = graph.add("ReLU", "relu", inplace=True), graph.add("Linear", "inner", out_features=4)
    add, out = graph.add("Add", "add"), graph.add("Output")
    graph.chain([inp, linear, relu, inner])
    graph.connect(Edge(inner.id, add.id, 0))
    graph.connect(Edge(linear.id, add.id, 1))
    graph.connect(Edge(add.id, out.id))
    instance = make_block(graph, [relu.id, inner.id], "Pre").instance
    assert instance is not None
    return graph, {"linear": linear, "relu": relu, "add": add, "pre": graph.node(instance.id)}


def test_a_block_that_overwrites_its_input_which_a_skip_connection_also_reads_is_refused():
    """Before, this analysed clean and the model returned pre(relu(h)) + relu(h) instead of pre(relu(h)) + h."""
    graph, n = first_layer_in_place()
    assert errors(graph) == [
        (
            n["pre"].id,
            "pre1.relu overwrites its input in place, but its input is linear's output, which also goes to add: "
            "add would read pre1.relu's result instead. Turn off inplace on relu in block Pre.",
        )
    ]
    with pytest.raises(CodegenError, match="Turn off inplace on relu in block Pre"):
        generate_model(graph)
    right, wrong = the_faulty_model(graph, n["relu"], "Pre")  # the fix the message names
    x = torch.tensor([[1.0, -2.0, 3.0, -4.0]])
    with torch.no_grad():
        h = right.linear(x)
        assert torch.allclose(right(x), right.pre1(h) + h)  # what the wires say
        assert torch.allclose(wrong(x), right.pre1(h) + torch.relu(h))  # the silent wrong sum
        assert not torch.allclose(right(x), wrong(x))


def test_a_block_that_overwrites_its_input_which_a_second_block_reads_is_refused():
    graph, n = first_layer_in_place()
    other = make_block(graph, [n["add"].id], "Merge").instance  # the skip's reader is now a block too
    assert other is not None
    [(node_id, message)] = errors(graph)
    assert node_id == n["pre"].id
    assert message.startswith("pre1.relu overwrites its input in place, but its input is linear's output")
    assert "also goes to merge1.add: merge1.add would read pre1.relu's result" in message


def test_the_instance_argument_that_turns_inplace_on_is_named_as_the_fix():
    graph, n = first_layer_in_place()
    defn = graph.blocks["Pre"]
    expose_arg(defn, n["relu"].id, "inplace", "relu_inplace")
    [(node_id, message)] = errors(graph)
    assert node_id == n["pre"].id
    assert message.endswith("Set pre1's argument relu_inplace to False (it turns on inplace of relu in block Pre).")
    graph.set_param(n["pre"].id, "relu_inplace", False)
    assert errors(graph) == []


def test_a_block_output_that_views_its_input_then_an_in_place_layer_outside_is_refused():
    """Before: relu(h) + relu(h) instead of relu(h) + h, the block (Identity, Flatten) handing h's memory on."""
    graph = Graph()
    inp, linear = graph.add("Input", shape=[4]), graph.add("Linear", "linear", out_features=4)
    ident, flat = graph.add("Identity", "ident"), graph.add("Flatten", "flat")
    relu, add, out = graph.add("ReLU", "relu", inplace=True), graph.add("Add", "add"), graph.add("Output")
    graph.chain([inp, linear, ident, flat, relu])
    graph.connect(Edge(relu.id, add.id, 0))
    graph.connect(Edge(linear.id, add.id, 1))
    graph.connect(Edge(add.id, out.id))
    make_block(graph, [ident.id, flat.id], "View")
    assert errors(graph) == [
        (
            relu.id,
            "relu overwrites its input in place, but its input (through view1.ident, view1.flat) is linear's output, "
            "which also goes to add: add would read relu's result instead. Turn off inplace on relu.",
        )
    ]
    right, wrong = the_faulty_model(graph, relu)
    x = torch.tensor([[1.0, -2.0, 3.0, -4.0]])
    with torch.no_grad():
        h = right.linear(x)
        assert torch.allclose(right(x), torch.relu(h) + h)
        assert torch.allclose(wrong(x), 2 * torch.relu(h))  # relu(h) + relu(h)


@pytest.mark.parametrize("last", ["Sigmoid", "ReLU"])
def test_an_in_place_layer_after_a_block_whose_last_layer_keeps_its_output_is_refused(last):
    """Before: training stopped at its first step with torch's "modified by an inplace operation"."""
    graph = Graph()
    inp, linear, kept = graph.add("Input", shape=[4]), graph.add("Linear", "linear", out_features=4), graph.add(last)
    relu, out = graph.add("ReLU6", "relu6", inplace=True), graph.add("Output")
    graph.chain([inp, linear, kept, relu, out])
    act = make_block(graph, [linear.id, kept.id], "Act").instance
    assert act is not None
    [(node_id, message)] = errors(graph)
    assert node_id == relu.id
    assert message == (
        f"relu6 overwrites its input in place, but its input is act1.{kept.name}'s output, which torch keeps to "
        f"send the gradient back through act1.{kept.name}, so training would stop at its first step. "
        "Turn off inplace on relu6."
    )
    _, wrong = the_faulty_model(graph, relu)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        wrong.train()(torch.randn(2, 4)).sum().backward()


def test_a_repeated_block_whose_next_copy_overwrites_what_the_last_layer_of_the_one_before_keeps_is_refused():
    """[relu(inplace) -> linear -> sigmoid] x2: the second copy's relu overwrites the first copy's sigmoid output."""
    graph = Graph()
    inp, first = graph.add("Input", shape=[4]), graph.add("Linear", "first", out_features=4)
    relu, linear = graph.add("ReLU", "relu", inplace=True), graph.add("Linear", "linear", out_features=4)
    sigmoid, out = graph.add("Sigmoid", "sigmoid"), graph.add("Output")
    graph.chain([inp, first, relu, linear, sigmoid, out])
    instance = make_block(graph, [relu.id, linear.id, sigmoid.id], "Stage").instance
    assert instance is not None
    assert errors(graph) == []  # one copy: relu overwrites first's output, which nothing else reads
    graph.set_repeat(instance.id, 2)
    assert errors(graph) == [
        (
            instance.id,
            "stage1.1.relu overwrites its input in place, but its input is stage1.0.sigmoid's output, which torch "
            "keeps to send the gradient back through stage1.0.sigmoid, so training would stop at its first step. "
            "Turn off inplace on relu in block Stage.",
        )
    ]
    graph.blocks["Stage"].graph.set_param(relu.id, "inplace", False)
    assert errors(graph) == []
    model = build(graph).train()
    _, copy1_relu = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    copy1_relu.inplace = True
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        model(torch.randn(2, 4)).sum().backward()


def test_a_nested_block_that_overwrites_its_input_is_found_across_both_boundaries():
    graph, n = first_layer_in_place()
    outer = make_block(graph, [n["pre"].id], "Outer").instance
    assert outer is not None
    [(node_id, message)] = errors(graph)
    assert node_id == outer.id
    assert message.startswith("outer1.pre1.relu overwrites its input in place, but its input is linear's output")


def test_in_place_inside_a_block_whose_input_nothing_else_reads_stays_allowed():
    """The same block with the skip connection reading the block's output instead, and a block after which an
    in-place layer overwrites new memory while the block's input also feeds the skip: torch computes what the wires
    say."""
    graph, n = first_layer_in_place()
    graph.disconnect(Edge(n["linear"].id, n["add"].id, 1))
    graph.connect(Edge(n["pre"].id, n["add"].id, 1))
    assert errors(graph) == []
    model, x = build(graph), torch.randn(3, 4)
    model.train()(x).sum().backward()

    graph = Graph()
    inp, linear = graph.add("Input", shape=[4]), graph.add("Linear", "linear", out_features=4)
    inner, relu = graph.add("Linear", "inner", out_features=4), graph.add("ReLU", "relu", inplace=True)
    add, out = graph.add("Add", "add"), graph.add("Output")
    graph.chain([inp, linear, inner, relu])
    graph.connect(Edge(relu.id, add.id, 0))
    graph.connect(Edge(linear.id, add.id, 1))
    graph.connect(Edge(add.id, out.id))
    make_block(graph, [inner.id], "New")
    assert errors(graph) == []  # the block's output is new memory: overwriting it leaves linear's output alone
    model = build(graph)
    with torch.no_grad():
        h = model.linear(x)
        assert torch.allclose(model(x), torch.relu(model.new1(h)) + h)


def test_a_conflict_between_two_layers_inside_the_same_block_is_told_once_by_the_instance():
    """The block's Input feeds its in-place relu and its own Add: the copy's analysis tells it; the walk that goes
    on past the block's boundary does not tell it a second time."""
    graph, n = first_layer_in_place()
    pre = graph.blocks["Pre"]
    inner_add = pre.graph.add("Add", "inner_add")
    [inp] = pre.graph.nodes_of_type("Input")
    [out] = pre.graph.nodes_of_type("Output")
    [last] = [e for e in pre.graph.edges if e.dst == out.id]
    pre.graph.disconnect(last)
    pre.graph.connect(Edge(last.src, inner_add.id, 0))
    pre.graph.connect(Edge(inp.id, inner_add.id, 1))
    pre.graph.connect(Edge(inner_add.id, out.id))
    graph.disconnect(Edge(n["linear"].id, n["add"].id, 1))
    graph.connect(Edge(n["pre"].id, n["add"].id, 1))
    [(node_id, message)] = errors(graph)
    assert node_id == n["pre"].id
    assert message.startswith("pre1, inside block Pre: relu") and "also goes to inner_add" in message


@pytest.mark.slow
def test_torchvision_resnet_imports_with_in_place_relus_inside_its_blocks_and_is_not_refused():
    """torchvision's BasicBlock: relu(inplace) after a batch norm and after the Add, the block's input read by
    conv1 and the shortcut only: nothing else reads what the relus overwrite."""
    from torchvision.models.resnet import BasicBlock, ResNet

    from core.fx_import import import_model

    graph = import_model(ResNet(BasicBlock, [2, 2, 2, 2]).eval(), [3, 32, 32], check=False).project.graph
    in_place = [n for d in graph.blocks.values() for n in d.graph.nodes if n.params.get("inplace")]
    assert len(in_place) >= 3
    assert errors(graph) == []
    model = build(graph).train()
    model(torch.randn(2, 3, 32, 32)).sum().backward()  # torch agrees: training runs


def test_the_conflict_is_found_whatever_order_the_layers_were_added_in():
    """The walk puts each layer after its inputs itself: here the in-place relu was drawn first."""
    graph = Graph()
    relu = graph.add("ReLU", "relu", inplace=True)
    inp, linear = graph.add("Input", shape=[4]), graph.add("Linear", "linear", out_features=4)
    ident, add, out = graph.add("Identity", "ident"), graph.add("Add", "add"), graph.add("Output")
    graph.chain([inp, linear, ident, relu, add, out])
    graph.connect(Edge(linear.id, add.id, 1))
    make_block(graph, [ident.id], "View")
    [(node_id, message)] = errors(graph)
    assert node_id == relu.id
    assert "its input (through view1.ident) is linear's output, which also goes to add" in message
