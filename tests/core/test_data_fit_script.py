"""A pretrained project's exported script loads its weights through torchvision's weights API
(``ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1.get_state_dict``) as a PyTorch user writes it, not from the cache path of
the machine that exported it (issue 27)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from core.code.script import generate_script
from core.pretrained.catalog import cache_path, weights_member
from core.pretrained.fetch import Fetched
from core.pretrained.project import pretrained_project
from core.training.setup import run_as_module

pytestmark = pytest.mark.slow  # imports a torchvision network (seconds)


def test_the_script_names_torchvisions_weights_not_the_cache_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    name = "shufflenet_v2_x0_5"
    torch.manual_seed(0)
    state = torchvision.models.get_model(name, weights=None).state_dict()
    path = cache_path(weights_member(name).url)  # in the seeded TORCH_HOME: torch.hub reads it, no download
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    project = pretrained_project(name, Fetched(state, path, cached=True)).project
    project.training.dataset = "digits"
    source = generate_script(project).source
    assert "from torchvision.models import ShuffleNet_V2_X0_5_Weights" in source
    assert "weights = ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1" in source
    assert str(path) not in source and "INITIAL_WEIGHTS" not in source
    script = tmp_path / "train.py"
    script.write_text(source)
    for args in (["check"], ["format", "--check"]):  # ruff's defaults, as tests/core/test_export_lint.py
        lint = subprocess.run([sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(script)])
        assert lint.returncode == 0
    module, _ = run_as_module(source)
    weights = module.ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1
    model = module.Net()
    loaded, new = module.start_from(model, weights.get_state_dict(progress=False))
    assert new == [] and len(loaded) == len(state)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_another_file_is_still_named_by_its_path(tmp_path: Path) -> None:
    from core.code.script_transfer import torchvision_weights

    assert torchvision_weights(str(tmp_path / "mine.pt")) == ""
    assert torchvision_weights(str(tmp_path / "resnet18-f37072fd.pth")) == "ResNet18_Weights.IMAGENET1K_V1"
    assert torchvision_weights(str(tmp_path / "resnet18-00000000.pth")) == ""  # torch.hub's name, not torchvision's
