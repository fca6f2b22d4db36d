"""Turning settings into torch objects: the device, the loss, and the generated script run as a module.

The optimizer and the scheduler come from the script itself (``make_optimizer``, ``make_scheduler``)."""

from __future__ import annotations

import itertools
import linecache
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
    filename = f"<torchcanvas-{label}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": f"torchcanvas_{label}", "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    return namespace, filename


def make_loss(name: str) -> nn.Module:
    return getattr(nn, name)()
