"""The block definitions TorchCanvas ships (the palette's built-in "Blocks"), written as data through the block API.

Each maker adds its definition (and any it uses) to a ``Library`` and returns it; names and argument names follow
torchvision, so a network built from them has torchvision's state_dict keys (``conv1``, ``bn1``,
``downsample.0.weight``). ``BUILTINS`` maps the palette name to its maker.
"""

from __future__ import annotations

from collections.abc import Callable

from core.model.block_edits import expose_arg
from core.model.blocks import BlockDef, Library, new_instance
from core.model.catalog import LAYERS
from core.model.graph import Graph
from core.model.layout import layered_layout
from core.model.node import Edge


def _new(library: Library, name: str, description: str, shape: list[int]) -> tuple[BlockDef, Graph]:
    graph = Graph()
    graph.blocks = library
    defn = BlockDef(name, graph, description=description)
    graph.add("Input", "x", (0.0, 0.0), shape=shape)
    return defn, graph


def _place(graph: Graph) -> None:
    """Left to right, as the editor's auto-layout places a network, so labels and nodes never overlap."""
    for node_id, pos in layered_layout(graph, "lr", column_gap=310.0, origin=(0.0, 0.0)).items():
        graph.node(node_id).pos = pos


def _conv_bn(graph: Graph, tag: str, kernel: int, padding: int) -> tuple[str, str]:
    conv = graph.add("Conv2d", f"conv{tag}", kernel_size=kernel, padding=padding, bias=False, out_channels=64)
    bn = graph.add("BatchNorm2d", f"bn{tag}")
    graph.connect(Edge(conv.id, bn.id))
    return conv.id, bn.id


def downsample(library: Library) -> BlockDef:
    """1x1 convolution + batch norm: the projection shortcut of a ResNet block (a chain: ``nn.Sequential``)."""
    if "Downsample" in library:
        return library["Downsample"]
    defn, g = _new(library, "Downsample", "Projection shortcut: a strided 1x1 convolution and batch norm.", [64, 8, 8])
    conv, bn = _conv_bn(g, "", 1, 0)
    g.node(conv).name, g.node(bn).name = "conv", "bn"
    g.connect(Edge(g.by_name("x").id, conv))  # type: ignore[union-attr]
    out = g.add("Output", "output")
    g.connect(Edge(bn, out.id))
    expose_arg(defn, conv, "out_channels", keyword=False)
    expose_arg(defn, conv, "stride")
    _place(g)
    library[defn.name] = defn
    return defn


def basic_block(library: Library, shortcut: bool = False) -> BlockDef:
    """ResNet's BasicBlock: two 3x3 convolutions and a residual addition (``shortcut``: projected, strided)."""
    name = "BasicBlockDown" if shortcut else "BasicBlock"
    if name in library:
        return library[name]
    what = ", first of a stage: strided, with a projection shortcut" if shortcut else ""
    defn, g = _new(library, name, f"ResNet-18/34 block{what}.", [64, 8, 8])
    x = g.by_name("x")
    assert x is not None
    conv1, bn1 = _conv_bn(g, "1", 3, 1)
    relu = g.add("ReLU", "relu")
    conv2, bn2 = _conv_bn(g, "2", 3, 1)
    add = g.add("Add", "add")
    relu2 = g.add("ReLU", "relu2")
    out = g.add("Output", "output")
    g.connect(Edge(x.id, conv1))
    g.chain([g.node(bn1), relu, g.node(conv2)])
    g.connect(Edge(bn2, add.id))
    identity = x.id
    if shortcut:
        ds = g.add_node(new_instance(g, downsample(library), name="downsample"))
        g.connect(Edge(x.id, ds.id))
        identity = ds.id
    g.connect(Edge(identity, add.id, 1))
    g.chain([add, relu2, out])
    expose_arg(defn, conv1, "out_channels", keyword=False)
    expose_arg(defn, conv2, "out_channels", keyword=False)
    expose_arg(defn, conv1, "stride")
    if shortcut:
        ds_id = g.by_name("downsample").id  # type: ignore[union-attr]
        defn.bindings[(ds_id, "out_channels")] = "out_channels"
        defn.bindings[(ds_id, "stride")] = "stride"
    _place(g)
    library[defn.name] = defn
    return defn


def bottleneck(library: Library) -> BlockDef:
    """ResNet-50's Bottleneck: 1x1 reduce, 3x3, 1x1 expand (x4), projection shortcut, residual addition."""
    if "Bottleneck" in library:
        return library["Bottleneck"]
    defn, g = _new(library, "Bottleneck", "ResNet-50/101 block: 1x1, 3x3, 1x1 convolutions and a shortcut.", [64, 8, 8])
    x = g.by_name("x")
    assert x is not None
    layers = []
    for tag, kernel, pad in (("1", 1, 0), ("2", 3, 1), ("3", 1, 0)):
        conv, bn = _conv_bn(g, tag, kernel, pad)
        layers += [conv, bn]
    relu1, relu2 = g.add("ReLU", "relu1"), g.add("ReLU", "relu2")
    g.connect(Edge(x.id, layers[0]))
    g.chain([g.node(layers[1]), relu1, g.node(layers[2])])
    g.chain([g.node(layers[3]), relu2, g.node(layers[4])])
    ds = g.add_node(new_instance(g, downsample(library), name="downsample"))
    g.connect(Edge(x.id, ds.id))
    add, relu3, out = g.add("Add", "add"), g.add("ReLU", "relu3"), g.add("Output", "output")
    g.connect(Edge(layers[5], add.id))
    g.connect(Edge(ds.id, add.id, 1))
    g.chain([add, relu3, out])
    expose_arg(defn, layers[0], "out_channels", "width", keyword=False)
    defn.bindings[(layers[2], "out_channels")] = "width"
    expose_arg(defn, layers[4], "out_channels", keyword=False)
    g.node(layers[4]).params["out_channels"] = 256
    defn.args[-1].default = 256
    expose_arg(defn, layers[2], "stride")
    defn.bindings[(ds.id, "out_channels")] = "out_channels"
    defn.bindings[(ds.id, "stride")] = "stride"
    _place(g)
    library[defn.name] = defn
    return defn


def vgg_block(library: Library) -> BlockDef:
    """VGG's unit: 3x3 convolution (padding 1) and ReLU (a chain: emitted as ``nn.Sequential``)."""
    if "VGGBlock" in library:
        return library["VGGBlock"]
    defn, g = _new(library, "VGGBlock", "VGG: a 3x3 convolution with padding 1, then ReLU.", [3, 32, 32])
    conv = g.add("Conv2d", "conv", out_channels=64, kernel_size=3, padding=1)
    relu, out = g.add("ReLU", "relu"), g.add("Output", "output")
    g.chain([g.by_name("x"), conv, relu, out])  # type: ignore[list-item]
    expose_arg(defn, conv.id, "out_channels", keyword=False)
    _place(g)
    library[defn.name] = defn
    return defn


def inverted_residual(library: Library) -> BlockDef | None:
    """MobileNetV2's inverted residual (stride 1, equal channels), when the catalog has ReLU6."""
    if "ReLU6" not in LAYERS:
        return None
    if "InvertedResidual" in library:
        return library["InvertedResidual"]
    about = "MobileNetV2: expand 1x1, depthwise 3x3, project 1x1, residual."
    defn, g = _new(library, "InvertedResidual", about, [32, 8, 8])
    x = g.by_name("x")
    assert x is not None
    expand = g.add("Conv2d", "expand", out_channels=192, kernel_size=1, bias=False)
    bn1, act1 = g.add("BatchNorm2d", "bn1"), g.add("ReLU6", "relu1")
    dw = g.add("Conv2d", "depthwise", out_channels=192, kernel_size=3, padding=1, groups=192, bias=False)
    bn2, act2 = g.add("BatchNorm2d", "bn2"), g.add("ReLU6", "relu2")
    project = g.add("Conv2d", "project", out_channels=32, kernel_size=1, bias=False)
    bn3, add, out = g.add("BatchNorm2d", "bn3"), g.add("Add", "add"), g.add("Output", "output")
    g.chain([x, expand, bn1, act1, dw, bn2, act2, project, bn3, add, out])
    g.connect(Edge(x.id, add.id, 1))
    expose_arg(defn, expand.id, "out_channels", "hidden", keyword=False)
    defn.bindings[(dw.id, "out_channels")] = "hidden"
    defn.bindings[(dw.id, "groups")] = "hidden"
    expose_arg(defn, project.id, "out_channels", keyword=False)
    _place(g)
    library[defn.name] = defn
    return defn


def transformer_encoder(library: Library) -> BlockDef | None:
    """A post-norm Transformer encoder layer over [N, T, d_model] with nn.TransformerEncoderLayer's names (so its
    state_dict keys are torch's): self-attention, residual, norm; feed-forward, residual, norm."""
    if "MultiheadAttention" not in LAYERS or "LayerNorm" not in LAYERS:
        return None
    if "TransformerEncoderBlock" in library:
        return library["TransformerEncoderBlock"]
    about = "Transformer encoder layer: self-attention and a feed-forward network."
    defn, g = _new(library, "TransformerEncoderBlock", about, [16, 64])
    x = g.by_name("x")
    assert x is not None
    attn = g.add("MultiheadAttention", "self_attn", num_heads=4)
    drop1, add1, norm1 = g.add("Dropout", "dropout1", p=0.1), g.add("Add", "add1"), g.add("LayerNorm", "norm1")
    linear1 = g.add("Linear", "linear1", out_features=256)
    relu, drop = g.add("ReLU", "activation"), g.add("Dropout", "dropout", p=0.1)
    linear2 = g.add("Linear", "linear2", out_features=64)
    drop2, add2, norm2 = g.add("Dropout", "dropout2", p=0.1), g.add("Add", "add2"), g.add("LayerNorm", "norm2")
    out = g.add("Output", "output")
    g.chain([x, attn, drop1, add1, norm1, linear1, relu, drop, linear2, drop2, add2, norm2, out])
    g.connect(Edge(x.id, add1.id, 1))
    g.connect(Edge(norm1.id, add2.id, 1))
    expose_arg(defn, linear2.id, "out_features", "d_model", keyword=False)
    expose_arg(defn, attn.id, "num_heads", "nhead", keyword=False)
    expose_arg(defn, linear1.id, "out_features", "dim_feedforward")
    expose_arg(defn, drop.id, "p", "dropout")
    defn.bindings[(drop1.id, "p")] = "dropout"
    defn.bindings[(drop2.id, "p")] = "dropout"
    _place(g)
    library[defn.name] = defn
    return defn


BUILTINS: dict[str, Callable[[Library], BlockDef | None]] = {
    "BasicBlock": basic_block,
    "BasicBlockDown": lambda lib: basic_block(lib, shortcut=True),
    "Bottleneck": bottleneck,
    "VGGBlock": vgg_block,
    "InvertedResidual": inverted_residual,
    "TransformerEncoderBlock": transformer_encoder,
}


def add_builtin(library: Library, name: str) -> BlockDef | None:
    """Put a built-in definition (and the ones it uses) into a project's library; None when not available."""
    return BUILTINS[name](library)
