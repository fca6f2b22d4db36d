"""What published models write as tensor code, imported exactly: a learned tensor used in forward (ViT's class
token and position embedding, ConvNeXt's layer scale) under its own state_dict key, LayerNorm over channels,
self-attention as ``x, _ = attn(x, x, x)``, slices (``x[:, :, ::2]``, a U-Net's centre crop), ``F.pad``,
reflection padding and ``F.interpolate``."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import generated_code
from core.fx_import import ModelImportError, import_model
from tests.core.import_fixtures import round_trip


class TinyViT(nn.Module):
    """torchvision's VisionTransformer in small: patches, a class token, a position embedding, pre-LN blocks."""

    class Encoder(nn.Module):
        def __init__(self, tokens: int, dim: int) -> None:
            super().__init__()
            self.pos_embedding = nn.Parameter(torch.randn(1, tokens, dim))
            self.ln_1 = nn.LayerNorm(dim)
            self.self_attention = nn.MultiheadAttention(dim, 2, batch_first=True)
            self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.pos_embedding
            y = self.ln_1(x)
            y, _ = self.self_attention(y, y, y, need_weights=False)
            x = x + y
            return x + self.mlp(x)

    def __init__(self) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, 8, kernel_size=4, stride=4)
        self.class_token = nn.Parameter(torch.randn(1, 1, 8))
        self.encoder = self.Encoder(17, 8)
        self.head = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        x = self.conv_proj(x).reshape(n, 8, 16).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        return self.head(self.encoder(x)[:, 0])


def test_a_vit_keeps_its_class_token_and_position_embedding_under_their_own_keys():
    project = round_trip(TinyViT(), [3, 16, 16])
    code, _ = generated_code(project)
    assert "self.class_token = LearnedTensor((1, 1, 8))" in code.source
    assert "self.pos_embedding = LearnedTensor((1, 17, 8))" in code.source
    assert re.search(r"\w+, _ = self\.self_attention\((\w+), \1, \1, need_weights=False\)", code.source)


def test_a_convnext_block_imports_with_layer_norm_over_channels_and_its_layer_scale():
    from torchvision.models.convnext import CNBlock, LayerNorm2d

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, kernel_size=2, stride=2), LayerNorm2d(8, eps=1e-6))
            self.stage = nn.Sequential(
                CNBlock(8, layer_scale=0.5, stochastic_depth_prob=0.1),
                CNBlock(8, layer_scale=0.5, stochastic_depth_prob=0.2),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.stage(self.stem(x))

    model = Tiny()
    with torch.no_grad():
        for block in model.stage:
            block.layer_scale.uniform_(0.5, 1.5)  # not all equal: the scale must reach the right channels
    project = round_trip(model, [3, 16, 16])
    code, _ = generated_code(project)
    assert "class LayerNorm2d(nn.LayerNorm)" in code.source
    assert "self.layer_scale = LearnedTensor(" in code.source


class Shortcuts(nn.Module):
    """akamaster's option-A shortcut (every other pixel, zero channels padded) and a U-Net's centre crop."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2), "constant", 0)
        y = self.conv(x) + short
        crop = x[:, :, 2:10, 2:10]
        return torch.cat([self.up(y)[:, :, 4:12, 4:12], crop], dim=1)


def test_slices_and_constant_padding_import_exactly():
    project = round_trip(Shortcuts(), [4, 16, 16])
    types = [n.type for n in project.graph.nodes]
    assert types.count("Slice") == 6 and types.count("Pad") == 1


class StyleNet(nn.Module):
    """fast_neural_style's layers: reflection padding, and F.interpolate before a convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.InstanceNorm2d(4, affine=True)
        self.edge = nn.ReplicationPad2d((1, 0, 2, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, mode="nearest", scale_factor=2)
        x = self.norm(self.conv(self.pad(x)))
        return F.pad(self.edge(x), (1, 1, 1, 1), mode="reflect")


def test_reflection_and_replication_padding_and_interpolate_import_exactly():
    project = round_trip(StyleNet(), [3, 8, 8])
    types = {n.type for n in project.graph.nodes}
    assert {"ReflectionPad2d", "ReplicationPad2d", "Upsample"} <= types


class Resize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=True)


def test_what_has_no_layer_is_still_refused_in_words():
    with pytest.raises(ModelImportError, match=r"F.interpolate to size \[5, 5\] from \[8, 8\]: only a whole scale"):
        import_model(Resize(), [3, 8, 8])


class Buffered(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("offset", torch.ones(1, 4))
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + self.offset


def test_a_buffer_used_in_forward_is_still_refused():
    with pytest.raises(ModelImportError, match="uses its tensor `offset` directly in forward"):
        import_model(Buffered(), [4])


class RepVGGLike(nn.Module):
    """RepVGG's block without its identity branch: ``id_out = 0`` and ``dense + 1x1 + id_out``."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Conv2d(3, 4, 3, padding=1)
        self.one = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        id_out = 0
        return (self.dense(x) + self.one(x) + id_out) * 1


def test_adding_zero_or_multiplying_by_one_draws_nothing():
    project = round_trip(RepVGGLike(), [3, 8, 8])
    assert [n.type for n in project.graph.nodes].count("Add") == 1
    assert "Multiply" not in {n.type for n in project.graph.nodes}
