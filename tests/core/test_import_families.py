"""torchvision's CNN families import exactly (keys, parameter count, outputs in eval), each through its smallest
member at a small input, and the layer kinds they needed work when drawn by hand too."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models.densenet import DenseNet
from torchvision.ops import StochasticDepth as TorchvisionStochasticDepth

from core.code.codegen import generate_model
from core.code.keras_code import KerasExportError, generate_keras_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.node import Edge
from tests.core.import_fixtures import round_trip


def _module(graph: Graph) -> nn.Module:
    code = generate_model(graph)
    namespace: dict[str, Any] = {}
    exec(compile(code.source, "model.py", "exec"), namespace)
    return namespace[code.class_name]()


def _merge(layer: str, shapes: list[list[int]], **params: Any) -> Graph:
    """Inputs of these shapes into one merge (named "merge"), then an Output."""
    g = Graph()
    merge = g.add(layer, "merge", num_inputs=len(shapes), **params)
    for i, shape in enumerate(shapes):
        x = g.add("Input", f"x{i}", shape=shape)
        g.connect(Edge(x.id, merge.id, i))
    g.connect(Edge(merge.id, g.add("Output").id))
    return g


# --- the kinds, drawn by hand ---------------------------------------------------------------------------------------
def test_stochastic_depth_drawn_by_hand_passes_in_eval_and_drops_as_torchvision_in_training() -> None:
    g = Graph()
    x = g.add("Input", shape=[4, 5, 5])
    sd = g.add("StochasticDepth", p=0.5, mode="row")
    g.chain([x, sd, g.add("Output")])
    analysis = analyze(g)
    assert analysis.ok and analysis.nodes[sd.id].out_shape == (None, 4, 5, 5)
    assert analysis.total_params == 0
    code = generate_model(g)
    assert "StochasticDepth(0.5, mode='row')" in code.source or 'StochasticDepth(0.5, mode="row")' in code.source
    model = _module(g)
    data = torch.randn(64, 4, 5, 5)
    assert torch.equal(model.eval()(data), data)
    for mode in ("row", "batch"):
        model.train()
        getattr(model, sd.name).mode = mode
        ours = torch.manual_seed(3) and model(data)
        theirs = torch.manual_seed(3) and TorchvisionStochasticDepth(0.5, mode).train()(data)
        assert torch.equal(ours, theirs)
        dropped = (ours.flatten(1).abs().sum(1) == 0).sum()
        assert 0 < dropped < 64 if mode == "row" else dropped in (0, 64)


def test_stochastic_depth_has_no_keras_equivalent_and_says_so() -> None:
    g = Graph()
    g.chain([g.add("Input", shape=[8]), g.add("StochasticDepth"), g.add("Output")])
    with pytest.raises(KerasExportError, match=r"StochasticDepth|Stochastic depth"):
        generate_keras_model(g)


def test_multiply_broadcasts_size_one_axes_squeeze_and_excitation() -> None:
    g = _merge("Multiply", [[16, 1, 1], [16, 8, 8]])
    analysis = analyze(g)
    assert analysis.ok
    merge = g.by_name("merge")
    assert merge is not None and analysis.nodes[merge.id].out_shape == (None, 16, 8, 8)
    scale, x = torch.rand(2, 16, 1, 1), torch.randn(2, 16, 8, 8)
    torch.testing.assert_close(_module(g)(scale, x), scale * x, atol=0, rtol=0)


@pytest.mark.parametrize(
    "shapes",
    [[[16, 1, 1], [8, 8, 8]], [[16, 8], [16, 8, 8]], [[4], [5]]],
    ids=["channels differ", "ranks differ", "features differ"],
)
def test_add_refuses_shapes_that_do_not_broadcast(shapes: list[list[int]]) -> None:
    problems = [p.message for p in analyze(_merge("Add", shapes)).errors]
    assert problems and "adds tensors of different shapes" in problems[0]


def test_concat_takes_more_than_eight_inputs() -> None:
    g = _merge("Concat", [[i + 1, 3, 3] for i in range(12)], dim=1)
    analysis = analyze(g)
    assert analysis.ok
    merge = g.by_name("merge")
    assert merge is not None and analysis.nodes[merge.id].out_shape == (None, 78, 3, 3)
    xs = [torch.randn(1, i + 1, 3, 3) for i in range(12)]
    assert torch.equal(_module(g)(*xs), torch.cat(xs, 1))


# --- the families ---------------------------------------------------------------------------------------------------
@pytest.mark.slow  # traces and rebuilds a torchvision network: seconds
def test_efficientnet_b0_imports_exactly_with_its_stochastic_depth() -> None:
    torch.manual_seed(0)
    model = load_source("torchvision:efficientnet_b0", {"num_classes": 10})
    project = round_trip(model, [3, 32, 32])
    found = [n for d in project.graph.blocks.values() for n in d.graph.nodes if n.type == "StochasticDepth"]
    assert found and {n.name for n in found} == {"stochastic_depth"}


@pytest.mark.slow  # traces and rebuilds a torchvision network: seconds
def test_mobilenet_v3_small_imports_exactly_with_squeeze_and_excitation() -> None:
    torch.manual_seed(0)
    round_trip(load_source("torchvision:mobilenet_v3_small", {"num_classes": 10, "width_mult": 0.5}), [3, 32, 32])


@pytest.mark.slow  # traces and rebuilds a torchvision network: seconds
def test_densenet_imports_exactly_with_its_long_concatenations() -> None:
    """densenet121's classes with fewer, thinner layers (bench/import_roundtrip.py imports densenet121 itself):
    its second dense block joins 11 tensors."""
    torch.manual_seed(0)
    model = DenseNet(growth_rate=8, block_config=(2, 10), num_init_features=16, num_classes=10)
    project = round_trip(model, [3, 32, 32])
    joins = [n.params.get("num_inputs", 2) for d in project.graph.blocks.values() for n in d.graph.nodes]
    assert max(j for j in joins if isinstance(j, int)) > 8


def test_chunk_drawn_by_hand_keeps_one_piece_as_torch_chunk() -> None:
    g = Graph()
    x = g.add("Input", shape=[7, 3])
    piece = g.add("Chunk", chunks=3, index=2, dim=1)
    g.chain([x, piece, g.add("Output")])
    analysis = analyze(g)
    assert analysis.ok and analysis.nodes[piece.id].out_shape == (None, 1, 3)  # 7 in 3: pieces of 3, 3, 1
    data = torch.randn(2, 7, 3)
    assert torch.equal(_module(g)(data), data.chunk(3, dim=1)[2])
    g.set_param(piece.id, "chunks", 4)  # 7 in 4: pieces of 2, 2, 2, 1
    assert analyze(g).ok
    g.set_params(piece.id, {"chunks": 5, "index": 4})  # 7 in 5: pieces of 2, 2, 2, 1: only 4 pieces
    problems = [p.message for p in analyze(g).errors]
    assert problems and "use an index from 0 to 3" in problems[0]


def test_channel_shuffle_drawn_by_hand_is_torchs() -> None:
    g = Graph()
    x = g.add("Input", shape=[6, 2, 2])
    shuffle = g.add("ChannelShuffle", groups=3)
    g.chain([x, shuffle, g.add("Output")])
    analysis = analyze(g)
    assert analysis.ok and analysis.nodes[shuffle.id].out_shape == (None, 6, 2, 2) and analysis.total_params == 0
    data = torch.randn(2, 6, 2, 2)
    assert torch.equal(_module(g)(data), nn.ChannelShuffle(3)(data))
    g.set_param(shuffle.id, "groups", 4)
    problems = [p.message for p in analyze(g).errors]
    assert problems and "6 is not divisible by 4" in problems[0]


class _ShapeArithmetic(nn.Module):
    """Shape arithmetic that is constant for one input shape: size(), shape[...], //, torch._assert, a channel
    shuffle written out, chunk and transpose."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size()
        torch._assert(h == x.shape[2], "height")
        x = self.conv(x)
        groups = 2
        x = x.view(n, groups, x.size(1) // groups, h, w)
        x = torch.transpose(x, 1, 2).contiguous()
        x = x.view(n, -1, h, w)
        a, b = x.chunk(2, dim=1)
        x = torch.cat((b, a), dim=1)
        x = x.flatten(2).transpose(1, 2)  # [N, H*W, C]
        return self.fc(x)


def test_shape_arithmetic_is_folded_for_the_input_shape() -> None:
    torch.manual_seed(0)
    graph = round_trip(_ShapeArithmetic(), [4, 5, 5]).graph
    types = [n.type for n in graph.nodes]
    assert {"ChannelShuffle", "Chunk", "Permute"} <= set(types) and "Reshape" not in types


@pytest.mark.slow  # traces and rebuilds a torchvision network: seconds
def test_shufflenet_v2_imports_exactly_with_channel_shuffle_and_chunks() -> None:
    torch.manual_seed(0)
    project = round_trip(load_source("torchvision:shufflenet_v2_x0_5", {"num_classes": 10}), [3, 32, 32])
    inner = {n.type for d in project.graph.blocks.values() for n in d.graph.nodes}
    assert {"ChannelShuffle", "Chunk"} <= inner


@pytest.mark.slow  # traces and rebuilds a torchvision network: seconds
def test_regnet_y_400mf_imports_exactly_with_its_dashed_block_names() -> None:
    """regnet names its blocks ``block1-0``: registered under that name (add_module), drawn as ``block1_0``."""
    torch.manual_seed(0)
    project = round_trip(load_source("torchvision:regnet_y_400mf", {"num_classes": 10}), [3, 32, 32])
    keys = {n.key: n.name for d in project.graph.blocks.values() for n in d.graph.nodes if n.key}
    assert keys["block1-0"] == "block1_0" and len(keys) == 16


class _BatchAsASize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        return x.view(n, n, -1)  # the batch size as a size of one sample: no fixed drawing


def test_the_batch_size_used_as_a_setting_is_refused_with_a_message() -> None:
    with pytest.raises(ModelImportError) as info:
        import_model(_BatchAsASize(), [4, 4])
    assert len(info.value.problems) == 1 and "x.view" in info.value.problems[0]
