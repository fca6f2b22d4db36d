"""Values a model computes from its input's height and width (a U-Net's pad to the skip's size, a CIFAR ResNet's
``F.avg_pool2d(out, out.size()[3])``) are folded into numbers for the traced size: exact there, wrong at other
sizes the original accepts. The import's notes say so, naming the line; the channels (``x.size(1)``) and a
constant pad are no such value."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.fx_import import import_model


class PadToSkip(nn.Module):
    """milesial's U-Net ``Up``: pad the upsampled map to the skip connection's size."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.conv = nn.Conv2d(7, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.up(self.down(x))
        diffY = x.size()[2] - x1.size()[2]
        diffX = x.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x, x1], dim=1))


class PoolWhole(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        out = F.avg_pool2d(out, out.size()[3])
        return self.fc(out.view(out.size(0), -1))


class Channels(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return F.pad(out.view(out.size(0), out.size(1), -1), [1, 1])


def sized_notes(model: nn.Module, shape: list[int]) -> list[str]:
    result = import_model(model.eval(), shape)
    assert result.max_difference is not None and result.max_difference < 1e-5
    return [n for n in result.notes if "computed from the input's height and width" in n]


def test_a_pad_to_the_skips_size_is_said_fixed_for_the_traced_size() -> None:
    (note,) = sized_notes(PadToSkip(), [3, 16, 16])
    assert note.startswith("Values computed from the input's height and width were fixed for the traced input (16x16)")
    assert "test_import_sized.py:" in note and "x1 = F.pad(x1, [diffX // 2" in note


def test_a_pool_over_the_whole_map_is_said_fixed_for_the_traced_size() -> None:
    (note,) = sized_notes(PoolWhole(), [3, 8, 8])
    assert "out = F.avg_pool2d(out, out.size()[3])" in note


def test_the_channels_and_the_batch_are_no_size_dependent_values() -> None:
    assert sized_notes(Channels(), [3, 8, 8]) == []
