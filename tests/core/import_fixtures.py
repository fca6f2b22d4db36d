"""The round trip every import test asks of a model: import it, build the generated code, load the imported
weights, and compare keys, parameter count and outputs with the original (shared by test_fx_import and
test_import_families)."""

from __future__ import annotations

import torch
from torch import nn

from core.files.built_model import build_model
from core.files.project import Project
from core.fx_import import import_model


def round_trip(model: nn.Module, shape: list[int]) -> Project:
    """import -> generated code -> the imported weights: same keys, parameter count and outputs (eval mode)."""
    model.eval()
    result = import_model(model, shape)
    built = build_model(result.project)
    built.module.load_state_dict(result.state)
    assert list(built.module.state_dict()) == list(model.state_dict())
    assert sum(p.numel() for p in built.module.parameters()) == sum(p.numel() for p in model.parameters())
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(built.module(x), model(x), atol=1e-5, rtol=0)
    return result.project
