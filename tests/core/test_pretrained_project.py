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


def test_a_pretrained_project_trains_a_new_head_on_a_frozen_backbone_from_the_cached_file(tmp_path: Path, monkeypatch):
    """The whole path with the app's Trainer: New from pretrained, a dataset with 5 classes, New head, Freeze
    everything before it, train: the network starts from the cached file (every tensor but the new head's), the
    frozen backbone (BatchNorm statistics included) comes out as it went in, the head learns."""
    from core.model.analysis import analyze
    from core.pretrained.head import head_fit
    from core.training import Trainer

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    name = "shufflenet_v2_x0_5"  # a small torchvision classifier with a Linear head
    weights = served_weights(tmp_path / "server", name)
    fetched = fetch_weights(weights, name=name)
    project = pretrained_project(name, fetched, entry=entry_of(name, weights)).project
    graph, training = project.graph, project.training
    graph.set_param(graph.nodes_of_type("Input")[0].id, "shape", [3, 32, 32])
    training.dataset, training.epochs, training.batch_size, training.device = "shapes:samples=40", 1, 10, "cpu"
    fit = head_fit(graph, analyze(graph, training), training)
    assert fit is not None and (fit.name, fit.old, fit.new) == ("fc", 1000, 5)
    graph.set_param(fit.node_id, "out_features", fit.new)
    for node_id in graph.upstream(fit.node_id):
        graph.node(node_id).trainable = False
    notices: list[str] = []
    trainer = Trainer(project, save=False, on_event=lambda e: notices.append(e.message) if e.kind == "notice" else None)
    result = trainer.run()
    assert result.status == "finished", result.message
    loaded = next(n for n in notices if n.startswith("Initial weights"))
    assert f"{len(fetched.state) - 2} tensors loaded, 2 new (fc.weight, fc.bias)" in loaded
    assert trainer.model is not None
    after = trainer.model.state_dict()
    backbone = [k for k in fetched.state if not k.startswith("fc.")]
    assert all(torch.equal(after[k].cpu(), fetched.state[k]) for k in backbone)
    assert list(after["fc.weight"].shape) == [5, 1024]
