"""Block and argument names the generated code needs for itself: refused when a project is made or read, and
renamed by the code generator when a definition carries one anyway, so the written code always runs."""

from __future__ import annotations

import json
import keyword

import pytest
import torch

from core.code.codegen import generate_model
from core.code.script import generate_script
from core.errors import GraphError, TorchCanvasError
from core.files.project import Project, dumps, load, loads
from core.model.block_edits import expose_arg, make_block
from core.model.blocks import BlockDef, new_instance
from core.model.graph import Graph
from core.model.names import CODE_NAMES
from tests.conftest import EXAMPLES
from tests.core.test_blocks import residual_net

RESNET = EXAMPLES / "resnet_small.json"
USED_BUILTINS = ["super", "int", "float", "bool", "str", "tuple", "list", "len", "range", "print", "type", "isinstance"]
DUNDERS = ["__class__", "__builtins__", "__init__", "__name__", "__x"]
RESERVED = sorted(set(keyword.kwlist) | set(keyword.softkwlist) | set(USED_BUILTINS) | CODE_NAMES | set(DUNDERS))
# names the training script binds at module level: valid block names, which the generated class must not take
SCRIPT_NAMES = ["main", "evaluate", "load_data", "prepare", "predict", "Path", "SEED", "json", "os", "time"]


def _file_with(block: str = "ResBlock", arg: str = "kk") -> str:
    """A project file whose block is named ``block`` and has an argument ``arg`` (made with clean names first)."""
    graph, chosen = residual_net()
    defn = make_block(graph, chosen, "ResBlock").definition
    assert defn is not None
    expose_arg(defn, defn.graph.by_name("conv1").id, "kernel_size", "kk")
    text = json.dumps(json.loads(dumps(Project(graph=graph, name="names"))))
    return text.replace('"ResBlock"', json.dumps(block)).replace('"kk"', json.dumps(arg))


@pytest.mark.slow
@pytest.mark.parametrize("name", RESERVED)
def test_a_reserved_block_name_is_refused_when_read_and_when_made(name):
    with pytest.raises(TorchCanvasError, match="is not allowed"):
        loads(_file_with(block=name))
    graph, chosen = residual_net()
    with pytest.raises(GraphError, match="is not allowed"):
        make_block(graph, chosen, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [*RESERVED, "in_channels", "in_channels2"])
def test_a_reserved_argument_name_is_refused_when_read_and_when_exposed(name):
    with pytest.raises(TorchCanvasError, match="cannot be an argument name: "):
        loads(_file_with(arg=name))
    graph, chosen = residual_net()
    defn = make_block(graph, chosen, "ResBlock").definition
    assert defn is not None
    with pytest.raises(GraphError, match="cannot be an argument name: "):
        expose_arg(defn, defn.graph.by_name("conv1").id, "kernel_size", name)


def test_the_refusal_says_why_in_plain_words():
    with pytest.raises(TorchCanvasError, match="'super' is a Python built-in name"):
        loads(_file_with(block="super"))
    with pytest.raises(TorchCanvasError, match="'nn' is used by the generated code itself"):
        loads(_file_with(arg="nn"))


def _rename_block(graph: Graph, old: str, new: str) -> None:
    """What a file written by hand (or by an older version) can hold: the checks are bypassed on purpose."""
    defn = graph.blocks.pop(old)
    defn.name = new
    graph.blocks[new] = defn
    for g in [graph, *(d.graph for d in graph.blocks.values())]:
        for node in g.nodes:
            node.block = new if node.block == old else node.block
            node.first_block = new if node.first_block == old else node.first_block


def _rename_arg(graph: Graph, old: str, new: str) -> None:
    for defn in graph.blocks.values():
        for item in defn.args:
            item.name = new if item.name == old else item.name
        bindings = defn.bindings.items()
        defn.bindings = {
            (n, new if p == old and _is_block(defn, n) else p): (new if a == old else a) for (n, p), a in bindings
        }
    for g in [graph, *(d.graph for d in graph.blocks.values())]:
        for node in (n for n in g.nodes if n.block is not None):  # the instances' values, not the layers'
            node.params = {(new if k == old else k): v for k, v in node.params.items()}
            node.first_params = {(new if k == old else k): v for k, v in node.first_params.items()}


def _is_block(defn: BlockDef, node_id: str) -> bool:
    return defn.graph.node(node_id).block is not None


def _run(source: str, state_keys: set[str]) -> None:
    """Compile and run the code: build ``Net``, check its weights' names and pass a batch through it."""
    namespace: dict = {"__name__": "generated"}  # a script's main() does not start
    exec(compile(source, "<generated>", "exec"), namespace)
    model = namespace["Net"]().eval()
    assert set(model.state_dict()) == state_keys
    with torch.no_grad():
        assert tuple(model(torch.randn(2, 3, 32, 32)).shape) == (2, 5)


@pytest.mark.slow
@pytest.mark.parametrize("name", [*RESERVED, *SCRIPT_NAMES, "PositionalEmbedding"])
def test_code_for_blocks_and_arguments_with_reserved_names_compiles_and_runs(name):
    project = load(RESNET)
    graph = project.graph
    graph.blocks["Downsample"].as_class = True  # a class of its own, called with keywords from BasicBlockDown
    keys = _state_keys(project)
    _rename_block(graph, "BasicBlockDown", name)
    _rename_arg(graph, "stride", name)
    _rename_arg(graph, "out_channels", "Downsample")  # inside BasicBlockDown it would hide the class it calls
    _run(generate_model(graph).source, keys)
    _run(generate_script(project).source, keys)


def _state_keys(project: Project) -> set[str]:
    namespace: dict = {}
    exec(generate_model(project.graph).source, namespace)
    return set(namespace["Net"]().state_dict())


def test_a_block_named_like_a_script_function_is_kept_in_the_model_file_and_renamed_in_the_script():
    graph, chosen = residual_net()
    make_block(graph, chosen, "main")  # a valid name: only the training script defines main()
    project = Project(graph=graph)
    assert "class main(nn.Module):" in generate_model(graph).source
    script = generate_script(project).source
    assert "class main_(nn.Module):" in script and "= main_(8)" in script


def test_an_argument_named_like_an_automatic_one_gets_its_own_name():
    """A Linear after a Flatten inside a block takes its in_features as an argument of its own (fc_in_features)
    where its instances take different sizes (32 and 5 here); an exposed argument of that name made two
    parameters with one name (a SyntaxError)."""
    graph = Graph()
    x, flat = graph.add("Input", "x", shape=[2, 4, 4]), graph.add("Flatten", "flatten")
    fc, out = graph.add("Linear", "fc", out_features=5), graph.add("Output", "output")
    unflatten = graph.add("Unflatten", "unflatten", dim=1, unflattened_size=[5, 1, 1])
    graph.chain([x, flat, fc, unflatten, out])
    edit = make_block(graph, [flat.id, fc.id], "Head")
    defn = edit.definition
    assert defn is not None
    graph.disconnect(graph.inputs_of(out.id)[0])
    graph.chain([unflatten, graph.add_node(new_instance(graph, defn, name="second")), out])
    defn.as_class = True
    expose_arg(defn, defn.graph.by_name("fc").id, "out_features", "fc_in_features")
    source = generate_model(graph).source
    assert "def __init__(self, fc_in_features2: int, fc_in_features: int = 5) -> None:" in source
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert tuple(namespace["Net"]()(torch.randn(3, 2, 4, 4)).shape) == (3, 5)
