"""The import's proof: the generated code, built, has the original's state_dict keys and shapes, takes its weights
and gives its outputs on a random input in eval mode. An import that fails this is refused, with what differs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from core.errors import TorchCanvasError
from core.fx_import.trace import ModelImportError

if TYPE_CHECKING:
    from core.fx_import import ImportResult

TOLERANCE = 1e-4  # relative to the output's scale: a 1000-class ResNet agrees to ~1e-6


def _listing(keys: list[str]) -> str:
    return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _build(result: ImportResult) -> nn.Module:
    """The generated ``Net`` with empty (meta) tensors: no time spent initialising weights that are replaced."""
    from core.files.built_model import generated_code
    from core.training.setup import exec_source

    try:
        code, _ = generated_code(result.project)
        namespace, _ = exec_source(code.source, "import-check")
        with torch.device("meta"):
            net: nn.Module = namespace[code.class_name]()
    except TorchCanvasError as exc:
        problem = str(exc).removeprefix("Cannot export: ")
        raise ModelImportError([f"The imported network cannot be drawn yet: {problem}"]) from None
    except Exception as exc:  # generated code that does not run is a bug: say so, without a traceback
        raise ModelImportError([f"The imported drawing does not build: {type(exc).__name__}: {exc}"]) from None
    return net.eval()


def verify(result: ImportResult, module: nn.Module, shape: list[int]) -> float:
    built = _build(result)
    own = built.state_dict()
    missing = sorted(set(result.state) - set(own))
    extra = sorted(set(own) - set(result.state))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"weights of the original without a layer: {_listing(missing)}")
        if extra:
            parts.append(f"layers without weights in the original: {_listing(extra)}")
        raise ModelImportError([_why_named_differently(result.called, missing) + "; ".join(parts) + "."])
    for key, value in result.state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ModelImportError(
                [f"`{key}` has shape {list(value.shape)} in the original but {list(own[key].shape)} when imported."]
            )
    built.load_state_dict(result.state, assign=True)
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn((1, *shape), generator=generator)
    with torch.no_grad():
        expected = module(sample)
        got = built(sample)
    if isinstance(expected, (tuple, list)):
        expected = expected[0]
    if isinstance(got, (tuple, list)):
        got = got[0]
    if not isinstance(expected, torch.Tensor) or tuple(expected.shape) != tuple(got.shape):
        raise ModelImportError(["The imported network's output has another shape than the original's."])
    diff = float((expected - got).abs().max()) if expected.numel() else 0.0
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    if diff > TOLERANCE * scale:
        raise ModelImportError(
            [f"The imported network computes something else than the original (largest difference {diff:.3g})."]
        )
    return diff


def _why_named_differently(called: set[str], missing: list[str]) -> str:
    modules = sorted({key.rsplit(".", 1)[0] for key in missing})
    uncalled = [m for m in modules if m not in called]
    if uncalled:
        listing = ", ".join(f"`model.{m}`" for m in uncalled[:3]) + (" …" if len(uncalled) > 3 else "")
        return (
            f"Some layers are never called in forward (in eval mode): {listing}; their weights would be lost. "
            "Build the model without them (e.g. aux_logits=False) and import again. "
        )
    odd = sorted({part for m in modules for part in m.split(".") if not part.isidentifier() and not part.isdigit()})
    if odd:
        return (
            f"Attribute names that are not Python names ({', '.join(odd[:3])}) cannot be kept, so the weights "
            "would not load by name: rename those submodules. "
        )
    return "The imported network's weights are named differently: "
