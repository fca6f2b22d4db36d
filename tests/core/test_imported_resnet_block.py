"""An imported ResNet's block is ONE class, as torchvision writes ``BasicBlock`` (issue 24, review 6 S8).

The import makes two definitions of torchvision's BasicBlock: the plain one, and the first block of a stage with
its shortcut (``downsample``), ``stride=2`` fixed in its conv1 and its first instance's ``out_channels`` as
default. The code writes them as one ``BasicBlock(in_channels, out_channels, stride=1, downsample=None)``; the
weights load strictly and the outputs are torchvision's. The project itself keeps its two definitions."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from core.files.built_model import generated_code
from tests.core.import_fixtures import round_trip


@pytest.fixture(scope="module")
def imported():
    torch.manual_seed(0)
    project = round_trip(torchvision.models.resnet18(num_classes=10), [3, 64, 64])  # strict keys, outputs 1e-5
    code, _ = generated_code(project)
    return project, code.source


def _classes(source: str) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}


def _init(cls: ast.ClassDef) -> ast.FunctionDef:
    return next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")


def test_an_imported_resnet18_has_one_basic_block_class_with_torchvisions_arguments(imported):
    project, source = imported
    classes = _classes(source)
    assert sorted(classes) == ["BasicBlock", "Net"], source
    init = _init(classes["BasicBlock"])
    assert [a.arg for a in init.args.args] == ["self", "in_channels", "out_channels", "stride", "downsample"]
    assert [ast.unparse(d) for d in init.args.defaults] == ["1", "None"]  # no out_channels taken from an instance
    assert ast.unparse(init.args.args[4].annotation) == "nn.Module | None"
    assert "stride=stride" in ast.unparse(init)
    net = {
        ast.unparse(n.targets[0]): ast.unparse(n.value)
        for n in ast.walk(_init(classes["Net"]))
        if isinstance(n, ast.Assign)
    }
    assert net["self.layer1"] == "nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))"
    assert net["self.layer2"] == (
        "nn.Sequential(BasicBlock(64, 128, stride=2, downsample=nn.Sequential(nn.Conv2d(64, 128, kernel_size=1, "
        "stride=2, bias=False), nn.BatchNorm2d(128))), BasicBlock(128, 128))"
    )
    forward = next(f for f in classes["BasicBlock"].body if isinstance(f, ast.FunctionDef) and f.name == "forward")
    assert ast.unparse(forward.body[0]) == "identity = x"  # as torchvision's first line
    # torchvision's one ReLU, called twice (torch.fx names the second call relu_1): one module, not two
    assert "relu_1" not in ast.unparse(classes["BasicBlock"]) and ast.unparse(forward).count("self.relu(out)") == 2
    assert len(project.graph.blocks) == 3  # the code is written from a copy: the project is not edited


def test_the_one_class_loads_torchvisions_weights_strictly_and_gives_its_outputs(imported):
    _, source = imported
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    torch.manual_seed(1)
    reference = torchvision.models.resnet18(num_classes=10).eval()
    net = namespace["Net"]().eval()
    net.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(net(x), reference(x))


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(), reason="ruff")
def test_the_one_class_is_ruff_clean(imported, tmp_path: Path):
    _, source = imported
    path = tmp_path / "model.py"
    path.write_text(source)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        run = subprocess.run([ruff, *args, str(path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_an_imported_bottleneck_resnet_has_one_bottleneck_class_under_its_own_name():
    """ResNet-50's blocks: the stage's first (with the shortcut) is met first, so the import names the plain one
    Bottleneck2; its stride is an argument of the first only. One class, named Bottleneck, strides and shortcut
    passed where a stage starts; channel counts have no default."""
    torch.manual_seed(0)
    model = torchvision.models.resnet.ResNet(torchvision.models.resnet.Bottleneck, [2, 2, 1, 1], num_classes=10)
    project = round_trip(model, [3, 64, 64])
    source = generated_code(project)[0].source
    classes = _classes(source)
    assert sorted(classes) == ["Bottleneck", "Net"], source
    init = _init(classes["Bottleneck"])
    assert [a.arg for a in init.args.args][-2:] == ["stride", "downsample"]
    assert [ast.unparse(d) for d in init.args.defaults] == ["1", "None"]
    net = {
        ast.unparse(n.targets[0]): ast.unparse(n.value)
        for n in ast.walk(_init(classes["Net"]))
        if isinstance(n, ast.Assign)
    }
    assert net["self.layer2"].startswith("nn.Sequential(Bottleneck(256, 128, 128, 512, stride=2, downsample=nn.Seq")
    assert net["self.layer2"].endswith("Bottleneck(512, 128, 128, 512))")
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    net_module = namespace["Net"]().eval()
    net_module.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(net_module(x), model.eval()(x))


def test_a_kernel_edited_in_one_drawn_definition_keeps_two_blocks() -> None:
    """The merge takes only a stage's stride as a number the two fix differently: an edit of BasicBlock's conv2
    (kernel 5, padding 2) gave the merged class kernel_size and padding arguments with the edited values as their
    defaults, where the user drew two blocks (tests/gui/test_blocks.py caught it)."""
    from pathlib import Path

    from core.code.codegen import generate_model
    from core.files.project import load

    project = load(Path(__file__).resolve().parents[2] / "resources" / "examples" / "resnet18.json")
    conv2 = project.graph.blocks["BasicBlock"].graph.by_name("conv2")
    conv2.params.update(kernel_size=5, padding=2)
    source = generate_model(project.graph).source
    assert "kernel_size=5" in source and "kernel_size: int" not in source
