"""Residual code as torchvision writes it (issue 24, review 5 R15): ``identity = x`` is the first line of a
block's forward and a flat residual keeps its skip in ``identity`` (not in ``x``, which the reader had to see was
not overwritten); the weights keep their keys, so torchvision's own resnet18 state_dict loads strictly and the
two networks compute the same."""

from __future__ import annotations

import ast

import pytest
import torch

from core.code.codegen import generate_model
from tests.core.train_fixtures import example


def _classes(source: str) -> dict[str, type]:
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def _forward_lines(source: str, class_name: str) -> list[str]:
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    forward = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "forward")
    return [ast.unparse(statement) for statement in forward.body]


@pytest.mark.parametrize("name", ["resnet_small", "resnet18"])
def test_basic_block_keeps_identity_first_as_torchvision(name: str) -> None:
    lines = _forward_lines(generate_model(example(name).graph).source, "BasicBlock")
    assert lines[0] == "identity = x" and lines[1] == "out = self.conv1(x)"
    # two ReLU modules stay (relu, relu2): one shared module would load the same weights (a ReLU has none), but
    # named_modules() lists it once and a forward hook on it fires twice: the health and layer-output views would
    # mix the block's two activations
    assert lines[-3:] == ["out = out + identity", "out = self.relu2(out)", "return out"]


def test_a_flat_residual_keeps_its_skip_in_identity() -> None:
    lines = _forward_lines(generate_model(example("residual_cnn").graph).source, "Net")
    start = lines.index("identity = x")
    add = next(i for i, line in enumerate(lines) if "+" in line)
    assert lines[add] == "x = out + identity" and start < add
    assert all(line.startswith("out = ") for line in lines[start + 1 : add])  # the main path, in out
    assert not any(line.startswith("x = ") for line in lines[start + 1 : add])


@pytest.mark.slow
def test_torchvisions_resnet18_weights_load_strictly_and_give_the_same_outputs() -> None:
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    theirs = models.resnet18(num_classes=1000).eval()
    ours = _classes(generate_model(example("resnet18").graph).source)["Net"]().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    for module in theirs.modules():  # batch norm statistics that are not the identity, so a wrong skip shows
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)
