"""Turning settings into torch objects: the device, the loss, the generated script run as a module, and the
weights a run starts from.

The optimizer and the scheduler come from the script itself (``make_optimizer``, ``make_scheduler``)."""

from __future__ import annotations

import itertools
import linecache
import os
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

_counter = itertools.count(1)


def resolve_device(requested: str) -> tuple[torch.device, str]:
    """The device to train on and, when the request cannot be met, a notice saying what happened instead."""
    if requested in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda"), ""
    if requested in ("auto", "mps") and torch.backends.mps.is_available():
        return torch.device("mps"), ""
    if requested in ("cuda", "mps"):
        what = "CUDA GPU" if requested == "cuda" else "Apple GPU (MPS)"
        return torch.device("cpu"), f"No {what} is available here, so training runs on the CPU instead."
    return torch.device("cpu"), ""


def exec_source(source: str, label: str = "script") -> tuple[dict[str, Any], str]:
    """Run generated source as a module and register it with linecache (as torch.fx does), so a
    traceback from inside the model shows the real generated line."""
    module, filename = run_as_module(source, label)
    return vars(module), filename


def run_as_module(source: str, label: str = "script") -> tuple[types.ModuleType, str]:
    """The generated source run as a module, as ``import train`` would give it: the trainer calls
    ``script.train_one_epoch`` like any reader of the exported file (its traceback lines: see exec_source)."""
    filename = f"<torchcanvas-{label}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(f"torchcanvas_{label}")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), vars(module))
    return module, filename


def make_loss(name: str) -> nn.Module:
    return getattr(nn, name)()


def start_weights(
    model: nn.Module,
    script: types.ModuleType,
    initial: str,
    imported: str | os.PathLike[str] | None,
    missing: str | None,
) -> str:
    """Load the weights training starts from into ``model``; returns what to tell the user ("" for fresh ones).

    ``initial`` (the initial weights setting, a file) goes through the script's own ``start_from``, as the
    exported script loads it: matched by name and shape, the rest stays new. Else ``imported`` (an imported
    project's own weights while fine-tuning) must fit whole. ``missing``: the project names imported weights
    that are not beside it."""
    from core.errors import ExportError, TrainingError

    if initial:
        from core.files.weights import load_weights

        try:
            state = load_weights(initial)
        except ExportError as exc:
            raise TrainingError(f"Cannot start from the initial weights: {exc}") from None
        loaded, new = script.start_from(model, state)
        listing = ", ".join(new[:6]) + (f" and {len(new) - 6} more" if len(new) > 6 else "")
        said = f" ({listing})." if new else "."
        return f"Initial weights {Path(initial).name}: {len(loaded)} tensors loaded, {len(new)} new{said}"
    if imported is not None:
        from core.fx_import.initial import load_initial

        load_initial(model, imported)
        return f"Fine-tuning: starting from the initial weights {Path(imported).name}."
    if missing is not None:
        return (
            f"Fine-tuning is on, but the initial weights {missing} are not beside the project file: "
            "this run starts from fresh random weights."
        )
    return ""
