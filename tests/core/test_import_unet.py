"""A U-Net as published (jvanvugt/pytorch-unet): the encoder's ``nn.ModuleList`` members take turns with a
``F.max_pool2d`` of the model itself, and the decoder's up-blocks, one class with other channels in each copy,
concatenate a skip connection before a block of their own. Both import exactly, with the original's keys."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model, generated_code
from core.files.project import dumps, loads
from core.fx_import import import_model


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.ModuleList([nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 8, 3, padding=1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.down:
            x = F.max_pool2d(conv(x), 2)
        return x


class ConvBlock(nn.Module):
    def __init__(self, size_in: int, size_out: int) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(size_in, size_out, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Up(nn.Module):
    def __init__(self, size_in: int, size_out: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(size_in, size_out, 2, stride=2)
        self.conv_block = ConvBlock(size_in, size_out)  # after the concatenation: size_out + the bridge's

    def forward(self, x: torch.Tensor, bridge: torch.Tensor) -> torch.Tensor:
        return self.conv_block(torch.cat([self.up(x), bridge], 1))


class UNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down_path = nn.ModuleList([ConvBlock(1, 4), ConvBlock(4, 8), ConvBlock(8, 16)])
        self.up_path = nn.ModuleList([Up(16, 8), Up(8, 4)])
        self.last = nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path) - 1:
                blocks.append(x)
                x = F.max_pool2d(x, 2)
        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i - 1])
        return self.last(x)


def _same(model: nn.Module, shape: list[int]) -> str:
    """The generated code, after checking it has the original's keys and outputs."""
    model.eval()
    result = import_model(model, shape)
    built = build_model(result.project).module.eval()
    assert list(built.state_dict()) == list(model.state_dict())
    built.load_state_dict(model.state_dict())
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(built(x), model(x), atol=1e-6, rtol=0)
    return generated_code(result.project)[0].source


def test_a_pooling_between_a_lists_members_is_drawn_inside_the_lists_block():
    source = _same(Encoder(), [3, 16, 16])
    between = "x = self[0](x)\n        x = self.max_pool2d(x)\n        x = self[1](x)\n"
    assert between in source  # in the list's class (an nn.ModuleList); the pooling after the last member in Net
    assert "class Down(nn.ModuleList):" in source
    assert "self.down = Down(3)" in source  # the list's class is named after it, never ModuleList (torch's own)


def test_a_unet_whose_encoder_pools_between_list_members_and_whose_up_blocks_concatenate_imports_exactly():
    source = _same(UNet(), [1, 16, 16])
    # each up-block's inner block is given its own entering channels (8 + 8, then 4 + 4), not the first one's
    assert "conv_block_in_channels" in source
    assert "class DownPath(nn.ModuleList):" in source and "class UpPath(nn.ModuleList):" in source


def test_a_saved_and_reopened_import_keeps_the_keys_of_a_lists_layers() -> None:
    """The layers of a list drawn in its block are registered under their numbers (``down.0.weight``); a project
    file kept that only for blocks, so the reopened project named them ``down.m_0`` and its weights no longer
    loaded by name."""
    model = Encoder().eval()
    again = loads(dumps(import_model(model, [3, 16, 16]).project))
    assert list(build_model(again).module.state_dict()) == list(model.state_dict())
