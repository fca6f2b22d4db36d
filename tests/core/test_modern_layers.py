"""The layers and options of issue 13 (activations, convolution padding, pooling ceil_mode, norms, 3-D layers,
attention): shapes and parameter counts against torch, the problems torch would raise named before it does, and
the generated lines a PyTorch user expects."""

from pathlib import Path

import pytest
import torch
from torch import nn

from core.code.codegen import generate_model
from core.files.project import Project
from core.model.analysis import analyze
from core.model.graph import Graph


def chain(inp: dict, *layers: tuple[str, dict]) -> Graph:
    graph = Graph()
    nodes = [graph.add("Input", **inp)]
    nodes += [graph.add(layer, **params) for layer, params in layers]
    nodes.append(graph.add("Output"))
    graph.chain(nodes)
    return graph


def build(graph: Graph) -> nn.Module:
    namespace: dict = {}
    exec(compile(generate_model(graph).source, "<generated>", "exec"), namespace)
    return namespace["Net"]().eval()


def errors(graph: Graph) -> list[str]:
    return [p.message for p in analyze(graph).errors]


IMAGE = {"shape": [4, 9, 9]}


def test_padding_same_keeps_the_size_and_same_with_a_stride_is_a_named_problem():
    for kernel, dilation in ((3, 1), (4, 1), (5, 2), ([3, 2], 1)):
        graph = chain(
            IMAGE, ("Conv2d", {"out_channels": 6, "kernel_size": kernel, "dilation": dilation, "padding": "same"})
        )
        assert analyze(graph).output_shapes(graph)[0] == (None, 6, 9, 9)
        assert build(graph)(torch.randn(2, 4, 9, 9)).shape == (2, 6, 9, 9)
    graph = chain(IMAGE, ("Conv2d", {"padding": "valid", "kernel_size": 4}))
    assert analyze(graph).output_shapes(graph)[0] == (None, 32, 6, 6)
    with pytest.raises(ValueError):  # torch refuses it ...
        nn.Conv2d(4, 8, 3, stride=2, padding="same")
    (message,) = errors(chain(IMAGE, ("Conv2d", {"stride": 2, "padding": "same"})))  # ... we say so first
    assert 'padding "same" only works with stride 1' in message and "conv" in message


def test_padding_mode_is_emitted_and_reflect_cannot_pad_more_than_the_input():
    graph = chain({"shape": [2, 2, 2]}, ("Conv2d", {"out_channels": 2, "padding": 2, "padding_mode": "reflect"}))
    (message,) = errors(graph)
    assert "padding_mode reflect cannot pad 2 values" in message
    with pytest.raises(RuntimeError):  # what torch would have said, at run time
        nn.Conv2d(2, 2, 3, padding=2, padding_mode="reflect")(torch.randn(1, 2, 2, 2))
    graph = chain({"shape": [2, 5, 5]}, ("Conv2d", {"out_channels": 2, "padding": 1, "padding_mode": "circular"}))
    assert 'padding_mode="circular"' in generate_model(graph).source
    assert build(graph)(torch.randn(1, 2, 5, 5)).shape == (1, 2, 5, 5)


@pytest.mark.parametrize("layer", ["MaxPool2d", "AvgPool2d"])
def test_ceil_mode_output_sizes_match_torch(layer):
    for size in range(3, 12):
        for kernel, stride, padding in ((2, 2, 0), (3, 2, 1), (3, 3, 0), (2, 3, 1)):
            params = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": True}
            graph = chain({"shape": [1, size, size]}, (layer, params))
            torch_out = getattr(nn, layer)(**params)(torch.randn(1, 1, size, size)).shape
            assert analyze(graph).output_shapes(graph)[0] == (None, *torch_out[1:]), (size, params)


def test_inplace_is_generated_only_when_set():
    # ReLU6 first: after a ReLU, whose backward pass reads its output, inplace is refused (core.model.in_place)
    source = generate_model(chain({"shape": [4]}, ("ReLU6", {"inplace": True}), ("ReLU", {}), ("Dropout", {}))).source
    assert "nn.ReLU()" in source and "nn.ReLU6(inplace=True)" in source and "nn.Dropout(0.5)" in source
    assert "inplace=False" not in source


@pytest.mark.parametrize(
    ("layer", "params", "torch_module"),
    [
        ("PReLU", {"num_parameters": 4}, nn.PReLU(4)),
        ("InstanceNorm2d", {"affine": True}, nn.InstanceNorm2d(4, affine=True)),
        ("InstanceNorm2d", {}, nn.InstanceNorm2d(4)),
        ("BatchNorm2d", {"affine": False}, nn.BatchNorm2d(4, affine=False)),
    ],
)
def test_parameter_counts_follow_their_options(layer, params, torch_module):
    graph = chain(IMAGE, (layer, params))
    assert analyze(graph).total_params == sum(p.numel() for p in torch_module.parameters())


def test_prelu_with_one_slope_per_channel_names_the_channels():
    (message,) = errors(chain(IMAGE, ("PReLU", {"num_parameters": 3})))
    assert "set num_parameters to 1 or 4" in message


def test_pixel_shuffle_and_zero_pad_shapes():
    graph = chain({"shape": [8, 5, 6]}, ("PixelShuffle", {}), ("ZeroPad2d", {"padding": [1, 2, 3, 4]}))
    assert analyze(graph).output_shapes(graph)[0] == (None, 2, 17, 15)
    assert build(graph)(torch.randn(1, 8, 5, 6)).shape == (1, 2, 17, 15)
    assert "divisible by 4" in errors(chain({"shape": [6, 4, 4]}, ("PixelShuffle", {})))[0]


def test_3d_layers():
    graph = chain({"shape": [2, 4, 8, 8]}, ("Conv3d", {"out_channels": 4}), ("BatchNorm3d", {}), ("MaxPool3d", {}))
    assert analyze(graph).output_shapes(graph)[0] == (None, 4, 1, 3, 3)
    assert build(graph)(torch.randn(2, 2, 4, 8, 8)).shape == (2, 4, 1, 3, 3)
    assert "volumes [N, C, D, H, W]" in errors(chain(IMAGE, ("Conv3d", {})))[0]


TOKENS = {"shape": [6], "dtype": "int64"}
EMBED = ("Embedding", {"num_embeddings": 10, "embedding_dim": 8})


def test_self_attention_reads_like_pytorch_and_returns_only_the_output():
    graph = chain(
        TOKENS, EMBED, ("MultiheadAttention", {"num_heads": 2}), ("Mean", {}), ("Linear", {"out_features": 3})
    )
    source = generate_model(graph).source
    assert "self.attn1 = nn.MultiheadAttention(8, 2, batch_first=True)" in source
    assert "x, _ = self.attn1(x, x, x, need_weights=False)  # [N, 6, 8]" in source
    assert "x = x.mean(dim=1)  # [N, 8]" in source
    model = build(graph)
    assert model(torch.zeros(3, 6, dtype=torch.long)).shape == (3, 3)
    assert analyze(graph).total_params == sum(p.numel() for p in model.parameters())


def test_heads_must_divide_the_features():
    (message,) = errors(chain(TOKENS, EMBED, ("TransformerEncoderLayer", {"nhead": 3})))
    assert "8 is not divisible by 3" in message and "one of 1, 2, 4, 8" in message


def test_transformer_stack_is_an_nn_transformer_encoder_with_torchs_state_dict_keys():
    params = {"nhead": 2, "dim_feedforward": 16, "num_layers": 3, "bias": False, "norm_first": True}
    graph = chain(TOKENS, EMBED, ("PositionalEmbedding", {}), ("TransformerEncoder", params), ("TakeToken", {}))
    source = generate_model(graph).source
    assert source.count("class TransformerEncoderStack(nn.TransformerEncoder):") == 1
    assert "x = x[:, 0]  # [N, 8]" in source
    model = build(graph)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, bias=False, norm_first=True)
    reference = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert list(model.encoder1.state_dict()) == list(reference.state_dict())
    assert analyze(graph).total_params == sum(p.numel() for p in model.parameters())
    assert model(torch.zeros(2, 6, dtype=torch.long)).shape == (2, 8)


def test_a_helper_class_is_emitted_once_and_before_the_model():
    graph = chain(TOKENS, EMBED, ("PositionalEmbedding", {}), ("PositionalEmbedding", {}))
    source = generate_model(graph).source
    assert source.count("class PositionalEmbedding(nn.Module):") == 1
    assert source.index("class PositionalEmbedding") < source.index("class Net")
    assert "self.pos_embedding1 = PositionalEmbedding(6, 8)" in source
    assert "class PositionalEmbedding" not in generate_model(chain(TOKENS, EMBED)).source


def test_take_token_names_the_steps():
    assert "index 6 is outside the 6 steps" in errors(chain(TOKENS, EMBED, ("TakeToken", {"index": 6})))[0]


EXPORTS = {
    "image": chain(
        IMAGE,
        ("Conv2d", {"out_channels": 8, "padding": "same", "padding_mode": "reflect"}),
        ("PReLU", {"num_parameters": 8}),
        ("ReLU6", {"inplace": True}),
        ("Hardtanh", {}),
        ("Hardswish", {}),
        ("Hardsigmoid", {}),
        ("Mish", {}),
        ("SELU", {}),
        ("InstanceNorm2d", {"affine": True}),
        ("BatchNorm2d", {"track_running_stats": False}),
        ("PixelShuffle", {}),
        ("ZeroPad2d", {"padding": [1, 0, 2, 1]}),
        ("MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
        ("AvgPool2d", {"ceil_mode": True}),
    ),
    "sequence": chain(
        {"shape": [4, 10]},
        ("Conv1d", {"out_channels": 4, "padding": "valid", "padding_mode": "circular"}),
        ("InstanceNorm1d", {}),
        ("Dropout1d", {}),
        ("Mean", {"dim": 2}),
    ),
    "volume": chain(
        {"shape": [2, 4, 6, 6]}, ("Conv3d", {"out_channels": 4, "padding": 1}), ("BatchNorm3d", {}), ("MaxPool3d", {})
    ),
    "attention": chain(
        TOKENS,
        EMBED,
        ("PositionalEmbedding", {}),
        ("MultiheadAttention", {"num_heads": 2}),
        ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}),
        ("TransformerEncoder", {"nhead": 2, "dim_feedforward": 16, "activation": "gelu", "norm_first": True}),
        ("TakeToken", {}),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_new_layers_export_to_onnx_and_match_pytorch(name: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from core.files.export import export_onnx

    result = export_onnx(Project(EXPORTS[name]), tmp_path / "net.onnx")
    assert "onnxruntime matches" in result.details


def test_norms_name_what_torch_refuses_in_training():
    """Found by the random-graph test: both passed the shape check, then torch raised in the forward pass."""
    (message,) = errors(chain(IMAGE, ("BatchNorm2d", {"eps": 0.0})))
    assert "eps must be above 0" in message
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm2d(4, eps=0.0).train()(torch.randn(2, 4, 3, 3))
    (message,) = errors(chain({"shape": [3, 1]}, ("InstanceNorm1d", {})))
    assert "has one value per channel" in message
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(torch.randn(2, 3, 1))
