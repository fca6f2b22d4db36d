"""Segmentation models as torchvision writes them: a dict output (the drawing gives its 'out'), an
``nn.ModuleList`` whose members run one after another (ASPP's branches keep their keys ``convs.0`` ...), and
F.interpolate back to the input's size. A list whose members take turns with a layer holding weights is refused in
words (calls without weights between them join the list's block: tests/core/test_import_unet.py)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source


class Segmenter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.convs = nn.ModuleList([nn.Conv2d(8, 4, 1), nn.Conv2d(8, 4, 3, padding=1)])
        self.head = nn.Conv2d(8, 3, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        size = x.shape[-2:]
        y = self.stem(x)
        y = torch.cat([conv(y) for conv in self.convs], dim=1)
        result = OrderedDict()
        result["out"] = F.interpolate(self.head(y), size=size, mode="bilinear", align_corners=False)
        return result


def _same(model: nn.Module, shape: list[int]) -> None:
    model.eval()
    result = import_model(model, shape)
    built = build_model(result.project).module.eval()
    assert set(built.state_dict()) == set(model.state_dict())
    built.load_state_dict(model.state_dict())
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(built(x), model(x)["out"], atol=1e-5, rtol=0)


def test_a_dict_output_list_branches_and_resizing_to_the_input_import_exactly():
    _same(Segmenter(), [3, 32, 32])


class Keys(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"logits": self.conv(x)}


def test_a_dict_without_out_is_refused_naming_its_keys():
    with pytest.raises(ModelImportError, match=r"returns a dict \('logits'\): only its 'out' entry"):
        import_model(Keys(), [3, 8, 8])


class TakingTurns(nn.Module):
    """The list's members alternate with a layer of the model that holds weights: moving it into the list's block
    would rename them (``mix.weight`` -> ``down.mix.weight``)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.ModuleList([nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)])
        self.mix = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.mix(self.down[0](x))
        return self.down[1](x)


def test_a_list_whose_members_take_turns_with_a_layer_holding_weights_is_refused_in_words():
    with pytest.raises(ModelImportError, match=r"`model.down` is an `nn.ModuleList` whose members take turns"):
        import_model(TakingTurns(), [3, 16, 16])


class TakingTurnsWithATensor(nn.Module):
    """A position tensor of the model's own added between the members: it holds weights too."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.ModuleList([nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1)])
        self.pos = nn.Parameter(torch.zeros(1, 4, 8, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down[1](self.down[0](x) + self.pos)


def test_a_learned_tensor_between_a_lists_members_is_refused_in_words_not_a_crash():
    with pytest.raises(ModelImportError, match=r"`model.down` is an `nn.ModuleList` whose members take turns"):
        import_model(TakingTurnsWithATensor(), [3, 8, 8])


@pytest.mark.slow  # a torchvision segmentation network: seconds
def test_torchvision_segmentation_imports_its_out():
    torch.manual_seed(0)
    _same(load_source("torchvision.segmentation:lraspp_mobilenet_v3_large", {"num_classes": 3}), [3, 64, 64])


class Pyramid(nn.Module):
    """DeepLab's ASPP in small: branches in a list, concatenated, then ``project``, a chain written inline."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(channels, 4, 1), nn.Conv2d(channels, 4, 3, padding=1)])
        self.project = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class Deep(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.aspp = Pyramid(6)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": self.aspp(self.stem(x))}


def test_an_inline_chain_after_a_concatenation_inside_a_class_imports_exactly():
    """The chain's first layer takes the concatenation's channels (8), a number inside the class: it was written
    as an argument nobody passed (NameError: m_0_in_channels), refusing deeplabv3."""
    _same(Deep(), [3, 8, 8])
