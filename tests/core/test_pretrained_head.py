"""A new head for the dataset's classes: the imported classifier's last Linear (in the network, or inside the
Classifier block torchvision's ``classifier`` Sequential imports as) gets out_features = the classes, after which
the task check has nothing left to say about the output."""

from __future__ import annotations

import torch
from torch import nn

from core.files.project import load
from core.fx_import import import_model
from core.model.analysis import analyze
from core.pretrained.head import head_fit
from tests.conftest import EXAMPLES


def _output_notes(project) -> list[str]:
    analysis = analyze(project.graph, project.training)
    return [p.message for p in analysis.problems if "scores per sample" in p.message or "classes and" in p.message]


def test_resnet_s_fc_is_the_head_and_fitting_it_silences_the_task_check():
    project = load(EXAMPLES / "resnet18.json")
    project.training.dataset = "digits"
    assert _output_notes(project)  # "output gives 1000 scores per sample but digits has 10 classes ..."
    fit = head_fit(project.graph, analyze(project.graph, project.training), project.training)
    fc = project.graph.by_name("fc")
    assert fit is not None and fc is not None
    assert (fit.node_id, fit.old, fit.new, fit.block, fit.thaw) == (fc.id, 1000, 10, None, None)
    assert fit.note().startswith("New head: fc's out_features 1000 → 10 for the 10 classes of digits.")
    project.graph.set_param(fc.id, "out_features", fit.new)
    assert _output_notes(project) == []
    assert head_fit(project.graph, analyze(project.graph, project.training), project.training) is None


def test_a_frozen_head_is_named_to_thaw():
    project = load(EXAMPLES / "resnet18.json")
    project.training.dataset = "digits"
    fc = project.graph.by_name("fc")
    assert fc is not None
    fc.trainable = False
    fit = head_fit(project.graph, analyze(project.graph, project.training), project.training)
    assert fit is not None and fit.thaw == fc.id and "it was frozen and now trains" in fit.note()


class _Tiny(nn.Module):
    """torchvision's shape of a classifier: features, pooling, then a ``classifier`` Sequential ending in Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Conv2d(3, 8, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def test_the_head_inside_an_imported_classifier_block_is_found():
    project = import_model(_Tiny(), [3, 16, 16], name="tiny").project
    project.training.dataset = "digits"
    graph = project.graph
    fit = head_fit(graph, analyze(graph, project.training), project.training)
    assert fit is not None and fit.block is not None and fit.instance_id == graph.by_name("classifier").id
    inner = graph.blocks[fit.block].graph.node(fit.node_id)
    assert inner.type == "Linear" and inner.params["out_features"] == 1000
    assert fit.name == f"classifier › {inner.name}" and fit.old == 1000
    graph.blocks[fit.block].graph.set_param(fit.node_id, "out_features", fit.new)
    analysis = analyze(graph, project.training)
    shape = analysis.shape(graph.nodes_of_type("Output")[0].id)
    assert shape is not None and shape[1] == 10
    assert head_fit(graph, analysis, project.training) is None


def test_no_head_for_a_fitting_network_or_a_loss_without_classes():
    project = load(EXAMPLES / "mnist_mlp.json")  # ends in 10 outputs
    project.training.dataset = "digits"
    assert head_fit(project.graph, analyze(project.graph, project.training), project.training) is None
    resnet = load(EXAMPLES / "resnet18.json")
    resnet.training.dataset, resnet.training.loss = "digits", "MSELoss"  # one output per class: not a class head
    assert head_fit(resnet.graph, analyze(resnet.graph, resnet.training), resnet.training) is None
