"""Submodules whose names are not Python names (regnet's ``block1-0``) import exactly: the node is named
``block1_0`` and the generated code registers the module under its original name with ``add_module`` (as
torchvision's own code does), so the original's state_dict loads strictly, and a project keeps that name."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from torch import nn

from core.code.codegen import generate_model
from core.errors import TorchCanvasError
from core.files.project import dumps, loads
from core.fx_import import import_model


class _Unit(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x)) + x


class _Dashed(nn.Module):
    """Two units registered under names with a dash, the way regnet's AnyStage names its blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.add_module("unit-a", _Unit(4))
        self.add_module("unit-b", _Unit(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for name in ("unit-a", "unit-b"):
            x = getattr(self, name)(x)
        return x


def _net(source: str) -> nn.Module:
    namespace: dict[str, Any] = {}
    exec(compile(source, "model.py", "exec"), namespace)
    return namespace["Net"]()


def test_a_dashed_submodule_name_is_kept_as_the_modules_name_and_the_weights_load_strictly() -> None:
    torch.manual_seed(0)
    model = _Dashed().eval()
    result = import_model(model, [3, 8, 8])
    names = {n.name: n.key for n in result.project.graph.nodes if n.block is not None}
    assert names == {"unit_a": "unit-a", "unit_b": "unit-b"}
    source = generate_model(result.project.graph).source
    assert 'self.add_module("unit-a", ' in source and 'getattr(self, "unit-b")(x)' in source, source
    net = _net(source).eval()
    net.load_state_dict(model.state_dict(), strict=True)
    assert list(net.state_dict()) == list(model.state_dict())
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), atol=1e-5, rtol=0)
    again = loads(dumps(result.project))  # the project file keeps the names of the weights
    assert {n.name: n.key for n in again.graph.nodes if n.block is not None} == names
    assert generate_model(again.graph).source == source


def test_a_model_that_is_an_nn_sequential_of_layers_keeps_their_numbers_as_keys() -> None:
    """``model = nn.Sequential(nn.Linear(...), nn.ReLU(), ...)``, as a first script writes it: its layers' keys
    are ``0.weight``, ``2.bias``; the generated Net registered them as ``m_0``, ``m_2`` and the import was refused."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    result = import_model(model, [4])
    source = generate_model(result.project.graph).source
    assert "class Net(nn.ModuleList):" in source, source  # self[2](x), not getattr(self, "2")(x)
    assert "self.append(nn.Linear(4, 8))" in source and "x = self[2](x)" in source, source
    net = _net(source).eval()
    net.load_state_dict(model.state_dict(), strict=True)
    assert list(net.state_dict()) == list(model.state_dict())
    x = torch.randn(3, 4)
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), atol=1e-6, rtol=0)
    assert generate_model(loads(dumps(result.project)).graph).source == source


@pytest.mark.parametrize("key", ["unit.a", "unit_a", "", 5])
def test_a_project_with_a_key_that_is_a_python_name_or_has_a_dot_is_refused_in_words(key: object) -> None:
    torch.manual_seed(0)
    data = json.loads(dumps(import_model(_Dashed().eval(), [3, 8, 8]).project))
    nodes = data["graph"]["nodes"]
    next(n for n in nodes if n.get("key") == "unit-a")["key"] = key
    with pytest.raises(TorchCanvasError, match="key"):
        loads(json.dumps(data))


@pytest.mark.slow  # builds regnet_x_400mf (5M parameters) and traces it: seconds
def test_regnet_x_400mf_state_dict_loads_strictly_into_the_generated_net_and_outputs_match() -> None:
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.regnet_x_400mf().eval()
    result = import_model(model, [3, 64, 64])
    source = generate_model(result.project.graph).source
    assert 'self.add_module("block1-0", ' in source, source
    net = _net(source).eval()
    net.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), atol=1e-5, rtol=0)
