"""Shape arithmetic Python must compute while tracing (``int(x.size(1) * self.ratio)``, kuangliu's ShuffleNetV2):
the plain trace fails on it, so the import traces again knowing each value's shape. The numbers are those of the
import's input shape; the batch size stays free, so the drawing works for any batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.fx_import import ModelImportError, import_model
from tests.core.import_fixtures import round_trip


class Split(nn.Module):
    def __init__(self, ratio: float = 0.5) -> None:
        super().__init__()
        self.ratio = ratio
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = int(x.size(1) * self.ratio)
        half = int(x.shape[2] / 2)
        left, right = x[:, :c], x[:, c:]
        y = torch.cat([self.conv(left), right], dim=1)
        y = F.adaptive_avg_pool2d(y, half)
        return y.view(y.size(0), -1)


def test_int_of_a_size_is_computed_for_the_input_shape_and_the_batch_stays_free():
    project = round_trip(Split(), [8, 6, 6])  # round_trip compares a batch of 2
    types = [n.type for n in project.graph.nodes]
    assert types.count("Slice") == 2 and "AdaptiveAvgPool2d" in types and "Flatten" in types


class ValueDependent(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x
        return -x


def test_a_decision_on_the_values_is_still_refused():
    with pytest.raises(ModelImportError, match="decides what to compute from the values of its input"):
        import_model(ValueDependent(), [4])


class ManyGpus(nn.Module):
    """pytorch/examples' dcgan Generator: on several GPUs the same layers run through data_parallel."""

    def __init__(self, ngpu: int = 2) -> None:
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())

    def forward(self, x):
        if (x.is_cuda or x.is_xpu) and self.ngpu > 1:
            return nn.parallel.data_parallel(self.main, x, range(self.ngpu))
        return self.main(x) if x.is_cpu else -self.main(x)


def test_asking_where_the_input_lives_is_the_model_on_the_cpu_with_a_note():
    round_trip(ManyGpus(), [3, 8, 8])
    notes = import_model(ManyGpus(), [3, 8, 8]).notes
    assert notes == [
        "forward asks where its input lives (`.is_cpu` as True, `.is_cuda` as False, `.is_xpu` as False): the "
        "drawing is the model as it runs on the CPU."
    ], notes
