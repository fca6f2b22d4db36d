"""The import's proof: the generated code, built, has the original's state_dict keys and shapes, takes its weights
and gives its outputs on a random input in eval mode. An import that fails this is refused, with what differs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from core.errors import TorchCanvasError
from core.files.built_model import generated_code
from core.fx_import.trace import ModelImportError
from core.training.setup import exec_source

if TYPE_CHECKING:
    from core.fx_import import ImportResult

TOLERANCE = 1e-4  # relative to the output's scale: a 1000-class ResNet agrees to ~1e-6


def _listing(keys: list[str]) -> str:
    return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _build(result: ImportResult) -> nn.Module:
    """The generated ``Net`` with empty (meta) tensors: no time spent initialising weights that are replaced."""
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


def verify(result: ImportResult, module: nn.Module, samples: list[torch.Tensor]) -> float:
    """The largest output difference on ``samples`` (one per input, a batch of one), or ModelImportError."""
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
        raise ModelImportError([_why_named_differently(missing) + "; ".join(parts) + "."])
    for key, value in result.state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ModelImportError(
                [f"`{key}` has shape {list(value.shape)} in the original but {list(own[key].shape)} when imported."]
            )
    built.load_state_dict(result.state, assign=True)
    calling = result.calling  # a time-first model reads its samples transposed; a starting state is None (zeros)
    with torch.no_grad():
        expected = module(*calling.original_inputs(samples), **dict.fromkeys(calling.zero_states))
        got = built(*samples)
    if isinstance(expected, dict):  # a segmentation model's {"out": ...}: the drawing gives its 'out'
        expected = expected["out"]
    # the outputs the drawing gives, in its layout; a None (nanoGPT's loss without targets) is no output
    expected_items = calling.drawn_outputs(expected, samples[0].shape[0])
    got_items = list(got) if isinstance(got, (tuple, list)) else [got]
    if len(expected_items) != len(got_items):
        raise ModelImportError(["The imported network has another number of outputs than the original."])
    return max(_difference(e, g, result.state) for e, g in zip(expected_items, got_items, strict=True))


def _difference(expected: object, got: object, state: dict[str, torch.Tensor]) -> float:
    """The largest difference between two outputs; refuses outputs that cannot be compared (NaN or infinite
    values compare False with everything, so they would pass for equal)."""
    if not isinstance(expected, torch.Tensor) or not isinstance(got, torch.Tensor) or expected.shape != got.shape:
        raise ModelImportError(["The imported network's output has another shape than the original's."])
    bad = _not_finite(expected)
    if bad:
        raise ModelImportError([f"The original model's outputs contain {bad}: cannot compare. {_weights_hint(state)}"])
    bad = _not_finite(got)
    if bad:
        raise ModelImportError([f"The imported network's outputs contain {bad} where the original's do not."])
    diff = float((expected - got).abs().max()) if expected.numel() else 0.0
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    if diff > TOLERANCE * scale:
        raise ModelImportError(
            [f"The imported network computes something else than the original (largest difference {diff:.3g})."]
        )
    return diff


def _not_finite(tensor: torch.Tensor) -> str | None:
    """ "NaN", "infinite values" or None."""
    if not tensor.is_floating_point() and not tensor.is_complex():
        return None
    if bool(torch.isnan(tensor).any()):
        return "NaN"
    return "infinite values" if bool(torch.isinf(tensor).any()) else None


def _weights_hint(state: dict[str, torch.Tensor]) -> str:
    """Where the NaN comes from when the weights hold it, and what to do."""
    bad = [key for key, value in state.items() if _not_finite(value)]
    if bad:
        return (
            f"Its weights hold NaN or infinite values ({_listing(bad)}): give a weights file without them, or "
            "import without --weights."
        )
    return "Its weights are finite, so its forward makes them on a random input: fix the model and import again."


def _why_named_differently(missing: list[str]) -> str:
    """What the missing keys have in common. Weights forward never uses are left out before this check
    (``unused``), so a key missing here belongs to a layer that ran."""
    modules = sorted({key.rsplit(".", 1)[0] for key in missing})
    odd = sorted({part for m in modules for part in m.split(".") if not part.isidentifier() and not part.isdigit()})
    if odd:
        return (
            f"Attribute names that are not Python names ({', '.join(odd[:3])}) cannot be kept, so the weights "
            "would not load by name: rename those submodules. "
        )
    return "The imported network's weights are named differently: "
