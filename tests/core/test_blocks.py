"""Blocks: make / ungroup / edit a definition, shapes through instances, and the code they become."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.code.codegen import CodegenError, generate_model
from core.errors import GraphError
from core.files.project import Project, dumps, loads
from core.model.analysis import analyze
from core.model.block_edits import expose_arg, make_block, ungroup
from core.model.blocks import BlockDef, new_instance
from core.model.builtin_blocks import BUILTINS, add_builtin
from core.model.graph import Graph
from core.model.node import Edge
from tests.core.test_codegen import check_forward_matches_inference, instantiate


def residual_net() -> tuple[Graph, list[str]]:
    """Input -> conv0 -> [conv1 -> bn1 -> relu1 -> conv2 -> add(+conv0)] -> relu2 -> flatten -> fc -> Output."""
    g = Graph()
    x = g.add("Input", "x", shape=[3, 16, 16])
    conv0 = g.add("Conv2d", "conv0", out_channels=8, kernel_size=3, padding=1)
    conv1 = g.add("Conv2d", "conv1", out_channels=8, kernel_size=3, padding=1)
    bn1 = g.add("BatchNorm2d", "bn1")
    relu1 = g.add("ReLU", "relu1")
    conv2 = g.add("Conv2d", "conv2", out_channels=8, kernel_size=3, padding=1)
    add = g.add("Add", "add")
    relu2, flatten = g.add("ReLU", "relu2"), g.add("Flatten", "flatten")
    fc, out = g.add("Linear", "fc", out_features=10), g.add("Output", "output")
    g.chain([x, conv0, conv1, bn1, relu1, conv2, add, relu2, flatten, fc, out])
    g.connect(Edge(conv0.id, add.id, 1))
    return g, [conv1.id, bn1.id, relu1.id, conv2.id, add.id]


@pytest.mark.slow
def test_make_block_keeps_shapes_params_and_code_and_reverts_exactly():
    graph, chosen = residual_net()
    before, total = graph.to_dict(), analyze(graph).total_params
    edit = make_block(graph, chosen, "ResBlock")
    assert edit.definition is graph.blocks["ResBlock"] and edit.instance is not None
    assert edit.definition.ports == (1, 1)  # conv0's value enters once, though it feeds two layers inside
    assert len(graph) == 7 and graph.node(edit.instance.id).block == "ResBlock"
    analysis = analyze(graph)
    assert analysis.ok and analysis.total_params == total
    assert analysis.shape(edit.instance.id) == (None, 8, 16, 16)
    code = check_forward_matches_inference(graph)
    assert "class ResBlock(nn.Module):" in code.source
    assert "def __init__(self, in_channels: int) -> None:" in code.source
    assert "self.resblock1 = ResBlock(8)" in code.source
    edit.revert()
    assert graph.to_dict() == before and not graph.blocks
    edit.apply()
    assert analyze(graph).total_params == total


def test_make_block_refuses_input_output_and_taken_names():
    graph, chosen = residual_net()
    with pytest.raises(GraphError, match="stay outside a block"):
        make_block(graph, [graph.by_name("x").id, *chosen], "B")
    with pytest.raises(GraphError, match="not allowed"):
        make_block(graph, chosen, "Net")
    with pytest.raises(GraphError, match="not allowed"):
        make_block(graph, chosen, "class")
    make_block(graph, chosen, "B")
    with pytest.raises(GraphError, match="already a block named B"):
        make_block(graph, [graph.by_name("fc").id], "B")


def test_two_values_entering_become_two_ports():
    graph, _ = residual_net()
    add = graph.by_name("add").id
    edit = make_block(graph, [add], "Merge2")
    assert edit.definition.ports == (2, 1)
    check_forward_matches_inference(graph)
    assert "class Merge2(nn.Module):" in generate_model(graph).source
    with pytest.raises(GraphError, match="one input and one output"):
        graph.set_repeat(edit.instance.id, 2)


def test_ungroup_inlines_the_layers_with_the_instance_arguments_and_reverts():
    graph = resnet_stage()
    node = graph.by_name("stage")
    total = analyze(graph).total_params
    before = graph.to_dict()
    edit = ungroup(graph, node.id)
    assert "stage" not in {n.name for n in graph.nodes}
    assert all(n.block is None or n.block == "Downsample" for n in graph.nodes)
    analysis = analyze(graph)
    assert analysis.ok and analysis.total_params == total
    strided = [n for n in graph.nodes if n.type == "Conv2d" and n.params.get("stride") == 2]
    assert len(strided) == 1  # the first copy's override reached its conv1 (the shortcut is still a block)
    check_forward_matches_inference(graph)
    edit.revert()
    assert graph.to_dict() == before


def resnet_stage() -> Graph:
    g = Graph()
    plain = add_builtin(g.blocks, "BasicBlock")
    add_builtin(g.blocks, "BasicBlockDown")
    x = g.add("Input", "x", shape=[16, 12, 12])
    stage = new_instance(g, plain, name="stage")
    stage.params, stage.repeat = {"out_channels": 32}, 2
    stage.first_block, stage.first_params = "BasicBlockDown", {"stride": 2}
    g.add_node(stage)
    pool, flat = g.add("AdaptiveAvgPool2d", "pool", output_size=[1, 1]), g.add("Flatten", "flatten")
    g.chain([x, stage, pool, flat, g.add("Linear", "fc", out_features=5), g.add("Output", "output")])
    return g


def test_a_repeat_is_a_sequential_whose_first_copy_differs():
    graph = resnet_stage()
    analysis = analyze(graph)
    assert analysis.shape(graph.by_name("stage").id) == (None, 32, 6, 6)
    code = check_forward_matches_inference(graph)
    # one class, as torchvision writes it: the first copy is given its shortcut (issue 24)
    assert "class BasicBlockDown" not in code.source and "BasicBlock(32, 32)" in code.source
    assert "BasicBlock(\n                16,\n                32,\n                stride=2,\n" in code.source
    keys = set(_model(code).state_dict())
    assert {"stage.0.downsample.0.weight", "stage.0.downsample.1.running_mean", "stage.1.conv2.weight"} <= keys


def _model(code):
    namespace: dict = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return namespace[code.class_name]()


def test_editing_a_definition_changes_every_instance():
    graph, chosen = residual_net()
    edit = make_block(graph, chosen, "ResBlock")
    second = graph.add_node(new_instance(graph, edit.definition, name="again"))
    fc = graph.by_name("relu2")
    wire = graph.inputs_of(fc.id)[0]
    graph.disconnect(wire)
    graph.connect(Edge(wire.src, second.id))
    graph.connect(Edge(second.id, fc.id))
    before = analyze(graph).nodes[second.id].param_count
    inner = edit.definition.graph
    inner.set_param(inner.by_name("conv1").id, "bias", False)
    after = analyze(graph)
    assert after.nodes[second.id].param_count == after.nodes[edit.instance.id].param_count < before
    check_forward_matches_inference(graph)


def test_exposed_argument_has_a_default_and_instances_set_it():
    graph, chosen = residual_net()
    edit = make_block(graph, chosen, "ResBlock")
    defn = edit.definition
    inner = defn.graph
    expose_arg(defn, inner.by_name("conv1").id, "out_channels", "width", keyword=False)
    defn.bindings[(inner.by_name("conv2").id, "out_channels")] = "width"
    graph.set_param(edit.instance.id, "width", 8)
    code = generate_model(graph).source
    assert "def __init__(self, in_channels: int, width: int) -> None:" in code
    assert "nn.BatchNorm2d(width)" in code and "self.resblock1 = ResBlock(8, 8)" in code
    with pytest.raises(Exception, match="width"):
        graph.set_param(edit.instance.id, "width", 0)


def test_a_shape_error_inside_a_block_names_the_instance_the_block_and_the_layer():
    graph = resnet_stage()
    graph.node(graph.by_name("x").id).params["shape"] = [16, 12]  # 1-D sequences: Conv2d needs images
    problems = [p.message for p in analyze(graph).errors]
    assert any("stage" in m and "inside block BasicBlockDown" in m and "conv1" in m for m in problems), problems


def test_an_auto_value_that_does_not_follow_the_channels_becomes_an_argument_where_instances_differ():
    """A Linear after a Flatten reads a size no channel count gives: an argument of the class, passed by its
    name, where the instances take different sizes; a class used where every instance takes the same one writes
    the number (a person's ``nn.Linear(144, 7)``, not ``Head(144)``). Either way the class stays, so a second
    instance does not rename the first one's weights (``head1.fc.weight``, never ``head1.1.weight``)."""
    g = Graph()
    x = g.add("Input", "x", shape=[4, 6, 6])
    flat, fc = g.add("Flatten", "flatten"), g.add("Linear", "fc", out_features=7)
    g.chain([x, flat, fc, g.add("Output", "output")])
    edit = make_block(g, [flat.id, fc.id], "Head")
    one = check_forward_matches_inference(g).source
    assert "self.head1 = Head()" in one and "self.fc = nn.Linear(144, 7)" in one, one
    out = g.nodes_of_type("Output")[0]
    wire = g.inputs_of(out.id)[0]
    g.disconnect(wire)
    unflatten = g.add("Unflatten", "unflatten", dim=1, unflattened_size=[7, 1, 1])
    second = g.add_node(new_instance(g, edit.definition, name="second"))
    g.chain([g.node(wire.src), unflatten, second, out])
    code = check_forward_matches_inference(g).source
    assert "def __init__(self, fc_in_features: int) -> None:" in code, code
    assert "self.head1 = Head(fc_in_features=144)" in code and "self.second = Head(fc_in_features=7)" in code
    keys = [generated_keys(source) for source in (one, code)]
    assert "head1.fc.weight" in keys[0] and set(keys[0]) <= set(keys[1])


def generated_keys(source: str) -> list[str]:
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return list(namespace["Net"]().state_dict())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_block_generates_code_that_matches_inference(name):
    g = Graph()
    defn = add_builtin(g.blocks, name)
    if defn is None:
        pytest.skip(f"{name} needs a layer this catalog does not have yet")
    x = g.add("Input", "x", shape=defn.graph.nodes_of_type("Input")[0].params["shape"])
    node = g.add_node(new_instance(g, defn, name="block"))
    flat = g.add("Flatten", "flatten")
    g.chain([x, node, flat, g.add("Linear", "fc", out_features=3), g.add("Output", "output")])
    code = check_forward_matches_inference(g)
    assert f"class {name}(nn.Module)" in code.source or "nn.Sequential(" in code.source


def test_vgg_block_is_a_sequential_with_numbered_children():
    g = Graph()
    add_builtin(g.blocks, "VGGBlock")
    x = g.add("Input", "x", shape=[3, 8, 8])
    node = new_instance(g, g.blocks["VGGBlock"], name="features")
    node.params, node.repeat = {"out_channels": 16}, 2
    g.add_node(node)
    g.chain([x, node, g.add("Flatten", "flatten"), g.add("Output", "output")])
    code = check_forward_matches_inference(g)
    assert "class VGGBlock" not in code.source
    assert set(_model(code).state_dict()) == {
        "features.0.0.weight",
        "features.0.0.bias",
        "features.1.0.weight",
        "features.1.0.bias",
    }


# --- the project file -------------------------------------------------------------------------------------------
def test_a_block_project_round_trips_byte_for_byte_as_schema_1_1():
    project = Project(resnet_stage(), "stage")
    text = dumps(project)
    data = json.loads(text)
    assert data["schema_version"] == 1 and data["schema_minor"] == 1
    assert [b["name"] for b in data["graph"]["blocks"]] == ["BasicBlock", "Downsample", "BasicBlockDown"]
    again = loads(text)
    assert dumps(again) == text
    assert analyze(again.graph).total_params == analyze(project.graph).total_params


def test_a_project_without_blocks_is_still_written_as_1_0():
    graph, _ = residual_net()
    data = json.loads(dumps(Project(graph)))
    assert "schema_minor" not in data and "blocks" not in data


def _stage_data() -> dict:
    return json.loads(dumps(Project(resnet_stage(), "stage")))


def _instance_of(block: dict, name: str) -> dict:
    return {"id": "n99", "type": "Block", "name": "inner", "params": {}, "pos": [0, 0], "block": name, "ports": [1, 1]}


def test_a_block_that_contains_itself_is_refused_with_a_message():
    data = _stage_data()
    plain = next(b for b in data["graph"]["blocks"] if b["name"] == "BasicBlock")
    plain["graph"]["nodes"].append(_instance_of(plain, "BasicBlock"))
    with pytest.raises(Exception, match="BasicBlock contains itself") as info:
        loads(json.dumps(data), "self.json")
    assert "self.json" in str(info.value)


def test_blocks_that_contain_each_other_are_refused():
    data = _stage_data()
    plain = next(b for b in data["graph"]["blocks"] if b["name"] == "BasicBlock")
    down = next(b for b in data["graph"]["blocks"] if b["name"] == "Downsample")
    plain["graph"]["nodes"].append(_instance_of(plain, "Downsample"))
    down["graph"]["nodes"].append(_instance_of(down, "BasicBlock"))
    with pytest.raises(Exception, match="contains itself"):
        loads(json.dumps(data))


def test_nesting_deeper_than_the_limit_is_refused():
    data = _stage_data()
    template = next(b for b in data["graph"]["blocks"] if b["name"] == "Downsample")
    for level in range(12):
        block = json.loads(json.dumps(template))
        block["name"] = f"Level{level}"
        block["args"], block["bindings"] = [], []
        if level:
            block["graph"]["nodes"].append(_instance_of(block, f"Level{level - 1}"))
        data["graph"]["blocks"].append(block)
    with pytest.raises(Exception, match="nested more than"):
        loads(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["graph"]["nodes"][1].update(repeat=10**6), "repeat"),
        (lambda d: d["graph"]["nodes"][1].update(block="Missing"), "does not define"),
        (lambda d: d["graph"]["nodes"][1].update(ports=[2, 1]), "ports"),
        (lambda d: d["graph"]["nodes"][1]["params"].update(out_channels="64); evil()"), "out_channels"),
        (lambda d: d["graph"]["nodes"][1]["params"].update(nope=1), "no argument"),
        (lambda d: d["graph"]["blocks"][0]["args"][0].update(name="in_channels"), "argument name"),
        (lambda d: d["graph"]["blocks"][0]["args"][0].update(default="1); evil()"), "argument"),
        (lambda d: d["graph"]["blocks"][0]["bindings"][0].update(param="evil"), "no parameter"),
        (lambda d: d["graph"]["blocks"][0].update(name="Bad Name"), "not allowed"),
        (lambda d: d["graph"]["blocks"][0]["args"][0].update(name=["out_channels"]), "argument name"),  # fuzz
        (lambda d: d["graph"]["blocks"][0]["args"][0].update(keyword=[True]), "keyword"),
        (lambda d: d["graph"]["blocks"][0]["args"][0].update(default={"a": 1}), "argument"),
        (lambda d: d["graph"]["blocks"].append(d["graph"]["blocks"][0]), "two blocks"),
    ],
)
def test_bad_block_fields_are_refused_on_load(change, message):
    data = _stage_data()
    assert data["graph"]["nodes"][1]["type"] == "Block"
    change(data)
    with pytest.raises(Exception, match=message):
        loads(json.dumps(data))


def test_block_def_ports_follow_its_input_and_output_nodes():
    g = Graph()
    d = BlockDef("Two", g)
    assert d.ports == (0, 0)
    g.add("Input", "x")
    g.add("Input", "y")
    g.add("Output", "output")
    assert d.ports == (2, 1)


def test_a_block_with_two_outputs_returns_a_tuple_unpacked_at_the_call_site(tmp_path):
    g = Graph()
    x = g.add("Input", "x", shape=[8])
    a, b = g.add("Linear", "a", out_features=4), g.add("Linear", "b", out_features=3)
    relu, out1, out2 = g.add("ReLU", "relu"), g.add("Output", "output"), g.add("Output", "output2")
    g.chain([x, a, out1])
    g.chain([x, b, relu, out2])
    edit = make_block(g, [a.id, b.id], "Heads")
    assert edit.definition.ports == (1, 2)
    analysis = analyze(g)
    assert analysis.ok and analysis.nodes[edit.instance.id].out_shapes == [(None, 4), (None, 3)]
    code = generate_model(g, analysis=analysis)
    assert "-> tuple[torch.Tensor, torch.Tensor]:" in code.source
    assert "x, x1 = self.heads1(x)" in code.source, code.source
    (tmp_path / "model.py").write_text(code.source)
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "--isolated", "--select", "E,F,W,I", str(tmp_path)], capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + code.source
    model = instantiate(code).eval()
    with torch.no_grad():
        y1, y2 = model(torch.randn(2, 8))
    assert [tuple(y1.shape), tuple(y2.shape)] == [(2, 4), (2, 3)]
    assert [s[1:] for s in analysis.output_shapes(g)] == [(4,), (3,)]
    assert bool((y2 >= 0).all())  # output port 1 (b) went through relu, port 0 (a) did not
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params == 8 * 4 + 4 + 8 * 3 + 3


def test_a_repeated_block_with_two_outputs_is_refused_with_a_message():
    g = Graph()
    x = g.add("Input", "x", shape=[8])
    a, b = g.add("Linear", "a", out_features=4), g.add("Linear", "b", out_features=3)
    out1, out2 = g.add("Output", "output"), g.add("Output", "output2")
    g.chain([x, a, out1])
    g.chain([x, b, out2])
    edit = make_block(g, [a.id, b.id], "Heads")
    with pytest.raises(GraphError, match="one input and one output"):
        g.set_repeat(edit.instance.id, 2)
    g.node(edit.instance.id).repeat = 2  # as a hand-edited project file could have it
    with pytest.raises(CodegenError, match=r"repeats block Heads ×2, but the block has 2 outputs"):
        generate_model(g)


def test_a_block_with_two_outputs_feeding_one_layer_matches_inference():
    g = Graph()
    x = g.add("Input", "x", shape=[8])
    a, b = g.add("Linear", "a", out_features=5), g.add("Linear", "b", out_features=5)
    add, fc, out = g.add("Add", "add"), g.add("Linear", "fc", out_features=2), g.add("Output", "output")
    g.chain([x, a])
    g.chain([x, b])
    g.connect(Edge(b.id, add.id, 0))
    g.connect(Edge(a.id, add.id, 1))
    g.chain([add, fc, out])
    edit = make_block(g, [a.id, b.id], "Pair")
    assert edit.definition.ports == (1, 2)
    code = check_forward_matches_inference(g)
    assert "class Pair(nn.Module):" in code.source


def test_a_chain_asked_to_be_a_class_is_one_and_the_choice_is_saved():
    g = Graph()
    add_builtin(g.blocks, "VGGBlock")
    g.blocks["VGGBlock"].as_class = True
    x = g.add("Input", "x", shape=[3, 8, 8])
    node = g.add_node(new_instance(g, g.blocks["VGGBlock"], name="features"))
    g.chain([x, node, g.add("Flatten", "flatten"), g.add("Output", "output")])
    code = check_forward_matches_inference(g)
    assert "class VGGBlock(nn.Module):" in code.source and "features.conv.weight" in _model(code).state_dict()
    text = dumps(Project(g))
    assert '"as_class": true' in text and loads(text).graph.blocks["VGGBlock"].as_class


def test_transformer_encoder_block_is_torchs_encoder_layer():
    import torch
    from torch import nn

    g = Graph()
    defn = add_builtin(g.blocks, "TransformerEncoderBlock")
    if defn is None:
        pytest.skip("needs MultiheadAttention and LayerNorm")
    x = g.add("Input", "x", shape=[10, 32])
    node = new_instance(g, defn, name="layer")
    node.params = {"d_model": 32, "nhead": 4, "dim_feedforward": 64}
    g.add_node(node)
    g.chain([x, node, g.add("Output", "output")])
    code = check_forward_matches_inference(g)
    assert "# [N, 16, 64]" not in code.source  # no shapes of the definition's example input in the class
    model = _model(code).eval()
    reference = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True).eval()
    model.layer.load_state_dict(reference.state_dict(), strict=True)
    tokens = torch.randn(2, 10, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(tokens), reference(tokens), atol=1e-5, rtol=1e-5)


def test_a_repeat_inside_a_block_follows_each_instances_channels():
    """Outer holds BNReLU x2; two Outers see 4 and 6 channels: each copy's BatchNorm must get its own."""
    g = Graph()
    x = g.add("Input", "x", shape=[4, 8, 8])
    bn, relu = g.add("BatchNorm2d", "bn"), g.add("ReLU", "relu")
    conv = g.add("Conv2d", "conv", out_channels=8, kernel_size=1)
    a = g.add("Conv2d", "a", out_channels=6, kernel_size=1)
    g.chain([x, bn, relu, conv, a, g.add("Flatten", "flatten"), g.add("Output", "output")])
    inner = make_block(g, [bn.id, relu.id], "BNReLU")
    g.set_repeat(inner.instance.id, 2)
    outer = make_block(g, [inner.instance.id, conv.id], "Outer")
    outer.definition.as_class = True
    wire = next(e for e in g.edges if e.src == a.id)
    g.disconnect(wire)
    second = g.add_node(new_instance(g, outer.definition, name="second"))
    g.connect(Edge(a.id, second.id))
    g.connect(Edge(second.id, wire.dst))
    code = check_forward_matches_inference(g)
    assert "nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU())," in code.source
    assert "self.conv = nn.Conv2d(in_channels, 8, kernel_size=1)" in code.source


def test_an_auto_argument_two_blocks_deep_follows_each_instance():
    """Middle holds Head (Flatten -> Linear: in_features is an argument of Head); two Middles see different
    sizes, so Middle must pass its own argument on, not the number of the example it was made from."""
    g = Graph()
    x = g.add("Input", "x", shape=[4, 6, 6])
    conv = g.add("Conv2d", "conv", out_channels=4, kernel_size=3, padding=1)
    flat, fc = g.add("Flatten", "flatten"), g.add("Linear", "fc", out_features=36)
    g.chain([x, conv, flat, fc, g.add("Output", "output")])
    head = make_block(g, [flat.id, fc.id], "Head")
    middle = make_block(g, [conv.id, head.instance.id], "Middle")
    middle.definition.as_class = True
    out = g.nodes_of_type("Output")[0]
    wire = g.inputs_of(out.id)[0]
    g.disconnect(wire)
    reshape = g.add("Unflatten", "unflatten", dim=1, unflattened_size=[4, 3, 3])  # 36 values: 4 x 3 x 3
    second = g.add_node(new_instance(g, middle.definition, name="second"))
    g.chain([g.node(wire.src), reshape, second, out])
    code = check_forward_matches_inference(g)
    assert "class Head(nn.Module):" in code.source and "class Middle(nn.Module):" in code.source


def test_code_after_a_definition_is_edited_in_place_is_the_code_of_the_edited_definition():
    """Generated code is a function of the graph only: nothing of an earlier generation is kept. A chain written
    inline (LayerNorm over [N, 8] reads the channels) whose definition is edited to take [N, 4, 8] gains an auto
    argument (the last dimension, 8 in one instance, 6 in the other): it becomes a class, exactly as a fresh
    process writes it."""
    g = Graph()
    x, norm, out = g.add("Input", "x", shape=[8]), g.add("LayerNorm", "norm"), g.add("Output", "output")
    g.chain([x, norm, out])
    edit = make_block(g, [norm.id], "Part")
    wire = g.inputs_of(out.id)[0]
    g.disconnect(wire)
    fc, second = g.add("Linear", "fc", out_features=6), g.add_node(new_instance(g, edit.definition, name="second"))
    g.chain([g.node(wire.src), fc, second, out])
    before = check_forward_matches_inference(g).source
    assert "nn.Sequential(nn.LayerNorm(8))" in before and "nn.Sequential(nn.LayerNorm(6))" in before, before
    for graph in (g, edit.definition.graph):  # the same objects, edited
        first = graph.nodes_of_type("Input")[0]
        graph.node(first.id).params = {**first.params, "shape": [4, 8]}
    code = check_forward_matches_inference(g).source
    fresh = generate_model(loads(dumps(Project(graph=g))).graph).source  # new objects: nothing to remember
    assert code == fresh
    assert "class Part(nn.Module)" in code and "Part(norm_normalized_shape=8)" in code, code
    assert "Part(norm_normalized_shape=6)" in code


def _state(graph: Graph) -> tuple[dict, list]:
    from core.model.blocks import library_to_list

    return graph.to_dict(), library_to_list(graph.blocks)


def test_a_make_block_core_refuses_half_way_changes_nothing():
    """conv1 and conv2 without bn1 and relu1 between them would feed the block into itself. Core used to find that
    out only when wiring the instance in, after adding the definition and removing the layers; now it checks
    first, so the graph, its library and its signals are left alone (the GUI no longer tries on a copy)."""
    graph, _ = residual_net()
    before = _state(graph)
    seen: list[str] = []
    graph.changed.connect(lambda: seen.append("changed"))
    with pytest.raises(GraphError, match="cycle: select bn1 too"):
        make_block(graph, [graph.by_name("conv1").id, graph.by_name("conv2").id], "Part")
    assert _state(graph) == before and not seen


def test_an_ungroup_core_refuses_half_way_changes_nothing():
    """An instance whose definition is missing: ungroup used to unplug and remove the instance before finding that
    out, leaving the network cut. Now it refuses first and changes nothing."""
    graph, chosen = residual_net()
    edit = make_block(graph, chosen, "ResBlock")
    assert edit.instance is not None
    defn = graph.blocks.pop("ResBlock")
    before = _state(graph)
    with pytest.raises(GraphError, match="does not define"):
        ungroup(graph, edit.instance.id)
    assert _state(graph) == before
    graph.blocks["ResBlock"] = defn


def test_a_step_refused_inside_make_block_is_rolled_back(monkeypatch):
    """The safety net behind the checks: a primitive step refused in the middle of an edit undoes the steps done."""
    graph, chosen = residual_net()
    before = _state(graph)
    real_connect = Graph.connect

    def refuse_instance_wires(self, edge, index=None):
        if self is graph and self.node(edge.dst).block:
            raise GraphError("refused for the test")
        return real_connect(self, edge, index)

    monkeypatch.setattr(Graph, "connect", refuse_instance_wires)
    with pytest.raises(GraphError, match="refused for the test"):
        make_block(graph, chosen, "ResBlock")
    assert _state(graph) == before


def test_exposing_a_parameter_twice_is_refused_by_core_and_changes_nothing():
    """The 'already an argument' rule lived only in the editor; core re-bound the parameter to a second argument,
    leaving the first one dangling. Now check_expose_arg (which the editor asks) and expose_arg refuse it."""
    from core.model.block_edits import check_expose_arg
    from core.model.blocks import block_to_dict

    library: dict = {}
    defn = add_builtin(library, "BasicBlockDown")
    assert defn is not None
    bound = next(key for key, arg in defn.bindings.items() if arg == "stride")
    before = block_to_dict(defn)
    with pytest.raises(GraphError, match=r"stride is already an argument of BasicBlockDown"):
        check_expose_arg(defn, *bound, "step")
    with pytest.raises(GraphError, match=r"stride is already an argument of BasicBlockDown"):
        expose_arg(defn, *bound, "step")
    assert block_to_dict(defn) == before
