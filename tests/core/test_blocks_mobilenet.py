"""MobileNetV2 drawn with blocks (nested chains inlined as nn.Sequential, inverted residuals as classes) is
torchvision's: 3,504,872 parameters, the same state_dict keys, its weights load strictly, the same outputs."""

from __future__ import annotations

import pytest
import torch
import torchvision

from core.code.codegen import generate_model
from core.files.project import Project, dumps, loads
from core.model.analysis import analyze
from core.model.block_edits import expose_arg
from core.model.blocks import BlockArg, BlockDef, new_instance
from core.model.graph import Graph
from core.model.node import Edge

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier


def _definition(library: dict, name: str, shape: list[int], as_class: bool = False) -> tuple[BlockDef, Graph]:
    graph = Graph()
    graph.blocks = library
    defn = BlockDef(name, graph, as_class=as_class)
    graph.add("Input", "x", shape=shape)
    library[name] = defn
    return defn, graph


def _use(graph: Graph, library: dict, block: str, name: str, **params) -> str:
    node = new_instance(graph, library[block], name=name)
    node.params = params
    return graph.add_node(node).id


def _finish(graph: Graph, ids: list[str]) -> None:
    out = graph.add("Output", "output")
    graph.chain([graph.by_name("x"), *(graph.node(i) for i in ids), out])


def _conv_bn_relu6(library: dict) -> None:
    defn, g = _definition(library, "ConvBNReLU6", [16, 8, 8])
    conv = g.add("Conv2d", "conv", out_channels=16, kernel_size=3, padding=1, bias=False)
    _finish(g, [conv.id, g.add("BatchNorm2d", "bn").id, g.add("ReLU6", "relu").id])
    expose_arg(defn, conv.id, "out_channels", keyword=False)
    for param in ("kernel_size", "stride", "padding", "groups"):
        expose_arg(defn, conv.id, param)


def _ir_conv(library: dict, name: str, expand: bool) -> None:
    defn, g = _definition(library, name, [16, 8, 8])
    ids = []
    if expand:
        ids.append(_use(g, library, "ConvBNReLU6", "pw", out_channels=96, kernel_size=1, padding=0))
    dw = _use(g, library, "ConvBNReLU6", "dw", out_channels=96 if expand else 16, groups=96 if expand else 16)
    project = g.add("Conv2d", "project", out_channels=24, kernel_size=1, bias=False)
    ids += [dw, project.id, g.add("BatchNorm2d", "bn").id]
    _finish(g, ids)
    defn.args = []
    expose_arg(defn, project.id, "out_channels", keyword=False)
    defn.args.insert(0, BlockArg("hidden", 96 if expand else 16, keyword=False))
    defn.args.append(BlockArg("stride", 1))
    if expand:
        defn.bindings[(ids[0], "out_channels")] = "hidden"
    defn.bindings[(dw, "out_channels")] = "hidden"
    defn.bindings[(dw, "groups")] = "hidden"
    defn.bindings[(dw, "stride")] = "stride"


def _inverted_residual(library: dict, name: str, conv: str, residual: bool) -> None:
    defn, g = _definition(library, name, [16, 8, 8], as_class=True)
    x = g.by_name("x")
    inner = _use(g, library, conv, "conv", hidden=16, out_channels=16)
    out = g.add("Output", "output")
    g.connect(Edge(x.id, inner))
    if residual:
        add = g.add("Add", "add")
        g.connect(Edge(inner, add.id))
        g.connect(Edge(x.id, add.id, 1))
        g.connect(Edge(add.id, out.id))
    else:
        g.connect(Edge(inner, out.id))
    defn.args = [BlockArg("hidden", 16, keyword=False), BlockArg("out_channels", 16, keyword=False)]
    defn.bindings = {(inner, "hidden"): "hidden", (inner, "out_channels"): "out_channels"}
    if not residual:
        defn.args.append(BlockArg("stride", 1))
        defn.bindings[(inner, "stride")] = "stride"


def mobilenet_v2() -> Graph:
    net = Graph()
    library = net.blocks
    _conv_bn_relu6(library)
    _ir_conv(library, "ExpandConv", expand=True)
    _ir_conv(library, "DepthwiseConv", expand=False)
    _inverted_residual(library, "InvertedResidual", "ExpandConv", residual=True)
    _inverted_residual(library, "InvertedResidualStride", "ExpandConv", residual=False)
    _inverted_residual(library, "InvertedResidualT1", "DepthwiseConv", residual=False)
    defn, g = _definition(library, "Features", [3, 32, 32])
    ids = [_use(g, library, "ConvBNReLU6", "stem", out_channels=32, stride=2)]
    ids.append(_use(g, library, "InvertedResidualT1", "ir1", hidden=32, out_channels=16))
    channels = 16
    for t, c, n, s in ((6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            name = f"ir{len(ids)}"
            if stride == 1 and channels == c:
                ids.append(_use(g, library, "InvertedResidual", name, hidden=channels * t, out_channels=c))
            else:
                block = "InvertedResidualStride"
                ids.append(_use(g, library, block, name, hidden=channels * t, out_channels=c, stride=stride))
            channels = c
    ids.append(_use(g, library, "ConvBNReLU6", "head", out_channels=1280, kernel_size=1, padding=0))
    _finish(g, ids)
    defn, g = _definition(library, "Classifier", [1280])
    _finish(g, [g.add("Dropout", "dropout", p=0.2).id, g.add("Linear", "fc", out_features=1000).id])
    x = net.add("Input", "x", shape=[3, 224, 224])
    features = new_instance(net, library["Features"], name="features")
    classifier = new_instance(net, library["Classifier"], name="classifier")
    pool, flat = net.add("AdaptiveAvgPool2d", "pool", output_size=[1, 1]), net.add("Flatten", "flatten")
    net.add_node(features)
    net.add_node(classifier)
    net.chain([x, features, pool, flat, classifier, net.add("Output", "output")])
    return net


def test_mobilenet_v2_drawn_with_blocks_is_torchvisions():
    graph = loads(dumps(Project(mobilenet_v2(), "MobileNetV2"))).graph  # and it survives the file
    analysis = analyze(graph)
    assert analysis.ok, analysis.errors
    assert analysis.total_params == 3_504_872
    code = generate_model(graph, analysis=analysis)
    assert "class InvertedResidual(nn.Module):" in code.source
    namespace: dict = {}
    exec(compile(code.source, "<mobilenet_v2>", "exec"), namespace)
    model = namespace["Net"]().eval()
    reference = torchvision.models.mobilenet_v2().eval()
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)  # MobileNetV2 takes small images too
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
