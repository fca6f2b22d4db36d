"""A pretrained classifier as a project: imported with blocks, holding the fetched weights (the generated network
loads the cached file strictly and gives torchvision's outputs), and starting from that file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from core.code.codegen import generate_model
from core.pretrained.catalog import entry_of
from core.pretrained.fetch import FetchCancelled, fetch_weights
from core.pretrained.project import pretrained_project
from tests.core.pretrained_fixtures import served_weights

pytestmark = pytest.mark.slow  # an import of ResNet-18 takes seconds


def test_the_project_is_the_pretrained_network_and_starts_from_the_cached_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = served_weights(tmp_path / "server")
    fetched = fetch_weights(weights, name="resnet18")
    result = pretrained_project("resnet18", fetched, entry=entry_of("resnet18", weights))
    project = result.project
    assert {"BasicBlock"} <= set(project.graph.blocks)
    assert project.training.initial_weights == str(fetched.path)
    assert "pretrained on ImageNet" in project.description
    code = generate_model(project.graph)
    namespace: dict = {}
    exec(compile(code.source, "<resnet18>", "exec"), namespace)
    net = namespace[code.class_name]().eval()
    net.load_state_dict(torch.load(fetched.path, weights_only=True), strict=True)  # the names match torchvision's
    reference = torchvision.models.resnet18().eval()
    reference.load_state_dict(fetched.state)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(x), reference(x))
    assert all(torch.equal(result.state[k], v) for k, v in fetched.state.items())  # the import held the weights


def test_a_cancel_after_the_fetch_stops_before_the_import(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = served_weights(tmp_path / "server")
    fetched = fetch_weights(weights)
    with pytest.raises(FetchCancelled):
        pretrained_project("resnet18", fetched, cancel=lambda: True)
