"""The most common U-Net on GitHub upsamples with ``align_corners=True`` (``F.interpolate`` or ``nn.Upsample``):
imported exactly as an Upsample layer that keeps the setting; what is still refused says so one cause at a time."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.code.keras_code import KerasExportError, generate_keras_model
from core.files.built_model import generated_code
from core.files.project import Project
from core.fx_import import ModelImportError, import_model
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.node import Node
from tests.core.import_fixtures import round_trip


def upsamples(project: Project) -> list[tuple[Graph, Node]]:
    """The Upsample nodes, in the network or inside a block, with the graph that holds each."""
    graphs = [project.graph, *(defn.graph for defn in project.graph.blocks.values())]
    return [(g, n) for g in graphs for n in g.nodes if n.type == "Upsample"]


class Up(nn.Module):
    """milesial's Pytorch-UNet ``Up`` block in small: upsample, pad to the skip's size, concatenate, convolve."""

    def __init__(self, channels: int, functional: bool) -> None:
        super().__init__()
        self.functional = functional
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv = nn.Conv2d(2 * channels, channels, 3, padding=1)

    def upsample(self, x: torch.Tensor) -> torch.Tensor:
        if self.functional:
            return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return self.up(x)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        x1 = self.upsample(x1)
        return self.conv(torch.cat([x2, x1], dim=1))


class UNet(nn.Module):
    def __init__(self, functional: bool) -> None:
        super().__init__()
        self.inc = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1))
        self.up = Up(8, functional)
        self.outc = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        return self.outc(self.up(self.down(x1), x1))


@pytest.mark.parametrize("functional", [True, False], ids=["F.interpolate", "nn.Upsample"])
def test_align_corners_true_imports_exactly(functional: bool) -> None:
    project = round_trip(UNet(functional), [3, 16, 16])  # outputs within 1e-5 of the original's
    ((_, up),) = upsamples(project)
    assert up.params["align_corners"] is True
    assert "align_corners=True" in generated_code(project)[0].source


class Flat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.conv(x), scale_factor=2, mode="bilinear", align_corners=True)


def test_keras_export_of_align_corners_is_refused_in_words() -> None:
    project = import_model(Flat().eval(), [3, 8, 8]).project
    with pytest.raises(KerasExportError, match="align_corners=True has no Keras equivalent: UpSampling2D's bilinear"):
        generate_keras_model(project.graph, analyze(project.graph))


def test_align_corners_in_nearest_mode_is_a_shape_error_with_its_fix() -> None:
    project = import_model(Flat().eval(), [3, 8, 8]).project
    ((graph, up),) = upsamples(project)
    graph.set_param(up.id, "mode", "nearest")
    (problem,) = [p for p in analyze(graph).problems if p.node_id == up.id]
    assert "aligns corners only in bilinear mode: choose mode bilinear, or untick align_corners" in problem.message


class Recomputed(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)


def test_what_is_still_refused_is_one_grammatical_cause() -> None:
    with pytest.raises(ModelImportError) as info:
        import_model(Recomputed(), [3, 8, 8])
    (problem,) = info.value.problems
    assert "it uses F.interpolate (recompute_scale_factor=True with scale_factor 1.5 is not supported) at " in problem
    assert " are not supported" not in problem


class Whole(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest", recompute_scale_factor=True)


def test_a_whole_scale_recomputed_is_the_same_layer() -> None:
    round_trip(Whole(), [3, 8, 8])
