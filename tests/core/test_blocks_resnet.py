"""The proof: torchvision's ResNet-18 drawn with blocks (resources/examples/resnet18.json) is torchvision's model."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from core.cli import main
from core.code.codegen import generate_model
from core.files.project import load
from core.model.analysis import analyze
from core.model.block_edits import make_block
from core.model.graph import Graph
from tests.conftest import EXAMPLES

RESNET18 = EXAMPLES / "resnet18.json"


@pytest.fixture(scope="module")
def code():
    return generate_model(load(RESNET18).graph)


def _net(code):
    namespace: dict = {}
    exec(compile(code.source, "<resnet18>", "exec"), namespace)
    return namespace[code.class_name]()


@pytest.mark.slow
def test_resnet18_loads_torchvision_weights_strictly_and_gives_the_same_outputs(code):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18().eval()
    model = _net(code).eval()
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    assert analyze(load(RESNET18).graph).total_params == 11_689_512
    assert list(model.state_dict()) == list(reference.state_dict())  # same keys, same order
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


def test_resnet18_code_reads_like_torchvision(code):
    source = code.source
    assert "class BasicBlock(nn.Module):" in source and "class BasicBlockDown" not in source  # one class (issue 24)
    assert "        stride: int = 1,\n        downsample: nn.Module | None = None,\n    ) -> None:" in source
    assert "self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))" in source
    assert "stride=2,\n                downsample=nn.Sequential(" in source and "BasicBlock(128, 128)" in source
    assert "self.bn1 = nn.BatchNorm2d(out_channels)" in source
    net = source[source.index("class Net(") :]
    assert net.count("        self.") < 20  # classes, not 60 flat attributes
    assert source.index("class BasicBlock(") < source.index("class Net(")


def test_resnet18_code_is_ruff_clean(code, tmp_path: Path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    (tmp_path / "resnet18.py").write_text(code.source)
    for args in (["check", "--isolated", "--select", "E,F,W,I"], ["format", "--isolated", "--check"]):
        result = subprocess.run([ruff, *args, str(tmp_path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_check_and_export_work_on_a_block_project(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example's data, imagenet/train, is not here: check refuses it, train would
    assert main(["check", str(RESNET18)]) == 1
    done = capsys.readouterr()
    assert "BasicBlock x2, first BasicBlockDown" in done.out and "Total params: 11,689,512" in done.out
    assert "imagenet/train: no such folder" in done.err
    target = tmp_path / "resnet18_model.py"
    assert main(["export", str(RESNET18), "-f", "model", "-o", str(target)]) == 0
    assert "downsample: nn.Module | None = None" in target.read_text()
    script = tmp_path / "train_resnet18.py"  # the script may run where the data is: export notes it, no more
    assert main(["export", str(RESNET18), "-o", str(script)]) == 0
    assert "class BasicBlock(nn.Module):" in script.read_text()
    assert "note: imagenet/train is not on this computer" in capsys.readouterr().out


@pytest.mark.slow
def test_train_runs_on_a_block_project(tmp_path: Path, capsys):
    from core.files.project import save

    project = load(EXAMPLES / "residual_cnn.json")
    graph = project.graph
    make_block(graph, [graph.by_name(n).id for n in ("conv2", "relu2", "conv3", "add", "relu3")], "ResidualUnit")
    path = tmp_path / "blocks.json"
    save(project, path)
    assert main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "runs")]) == 0
    assert "test accuracy" in capsys.readouterr().out
    (script,) = (tmp_path / "runs").glob("*/train.py")
    assert "class ResidualUnit(nn.Module):" in script.read_text()


def vgg11() -> Graph:
    """torchvision's VGG-11 drawn flat, then its two halves made into blocks the way a user would."""
    g = Graph()
    layers = [g.add("Input", "x", shape=[3, 224, 224])]
    features = []
    for item in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if item == "M":
            features.append(g.add("MaxPool2d", kernel_size=2, stride=2))
        else:
            features += [g.add("Conv2d", out_channels=item, kernel_size=3, padding=1), g.add("ReLU")]
    head = [g.add("AdaptiveAvgPool2d", "avgpool", output_size=[7, 7]), g.add("Flatten", "flatten")]
    classifier = [g.add("Linear", out_features=4096), g.add("ReLU"), g.add("Dropout")]
    classifier += [g.add("Linear", out_features=4096), g.add("ReLU"), g.add("Dropout")]
    classifier.append(g.add("Linear", out_features=1000))
    g.chain([*layers, *features, *head, *classifier, g.add("Output", "output")])
    for ids, name, attr in ((features, "VGGFeatures", "features"), (classifier, "VGGClassifier", "classifier")):
        edit = make_block(g, [n.id for n in ids], name)
        g.set_name(edit.instance.id, attr)
    return g


def test_vgg11_made_with_make_block_has_torchvisions_keys_shapes_and_parameter_count():
    graph = vgg11()
    analysis = analyze(graph)
    assert analysis.ok and analysis.total_params == 132_863_336
    code = generate_model(graph, analysis=analysis)
    assert "class VGG" not in code.source  # two chains: nn.Sequential with numbered children, as torchvision
    with torch.device("meta"):
        ours = {k: v.shape for k, v in _net(code).state_dict().items()}
        theirs = {k: v.shape for k, v in torchvision.models.vgg11().state_dict().items()}
    assert ours == theirs
