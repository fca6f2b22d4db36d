"""The summary's Trainable / Non-trainable params (Keras' words) follow Node.trainable, checked against torch's own
count of the parameters a frozen torchvision ResNet-18 leaves to the optimizer."""

from __future__ import annotations

import re

import torchvision

from core.cli import main
from core.files.project import load, save
from core.model.analysis import analyze
from core.model.summary import param_split, params_line, summary_table
from tests.conftest import EXAMPLES

RESNET18 = EXAMPLES / "resnet18.json"


def _torch_split(frozen) -> tuple[int, int]:
    model = torchvision.models.resnet18()
    trainable = sum(p.numel() for name, p in model.named_parameters() if not frozen(name))
    return trainable, sum(p.numel() for p in model.parameters()) - trainable


def test_a_frozen_backbone_leaves_only_the_head_trainable():
    project = load(RESNET18)
    for node in project.graph.nodes:
        node.trainable = node.name == "fc"
    analysis = analyze(project.graph)
    assert param_split(project.graph, analysis) == _torch_split(lambda name: not name.startswith("fc."))
    table = summary_table(project.graph, analysis, project.name)
    trainable, frozen = _torch_split(lambda name: not name.startswith("fc."))
    assert f"Trainable params: {trainable:,}\nNon-trainable params: {frozen:,}" in table
    assert params_line(project.graph, analysis) == (
        f"Parameters: {trainable + frozen:,} ({trainable:,} trainable, {frozen:,} frozen)"
    )


def test_a_layer_frozen_inside_a_block_counts_once_per_copy_that_uses_that_definition():
    project = load(RESNET18)
    conv1 = project.graph.blocks["BasicBlock"].graph.by_name("conv1")
    assert conv1 is not None
    conv1.trainable = False  # every BasicBlock copy; the first copies of layer2-4 are BasicBlockDown
    analysis = analyze(project.graph)
    in_basic_block = re.compile(r"layer(1\.\d|[234]\.1)\.conv1\.")
    assert param_split(project.graph, analysis) == _torch_split(lambda name: bool(in_basic_block.match(name)))


def test_nothing_frozen_is_all_trainable_and_the_status_line_stays_short():
    project = load(RESNET18)
    analysis = analyze(project.graph)
    assert param_split(project.graph, analysis) == (analysis.total_params, 0)
    assert params_line(project.graph, analysis) == f"Parameters: {analysis.total_params:,}"


def test_check_prints_the_split_of_a_saved_frozen_project(tmp_path, capsys):
    project = load(EXAMPLES / "mnist_mlp.json")
    fc1 = project.graph.by_name("fc1")
    assert fc1 is not None
    fc1.trainable = False
    save(project, tmp_path / "frozen.json")
    assert main(["check", str(tmp_path / "frozen.json")]) == 0
    out = capsys.readouterr().out
    assert "Total params: 407,050\nTrainable params: 5,130\nNon-trainable params: 401,920" in out
