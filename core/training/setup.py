"""Turning settings into torch objects: device, model class, loss, optimizer, scheduler."""

from __future__ import annotations

import itertools
import linecache
from typing import Any, Literal

import torch
from torch import nn

from core.errors import TrainingError
from core.script import NO_MOMENTUM, PLATEAU_PATIENCE
from core.settings import TrainingSettings

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


def make_optimizer(settings: TrainingSettings, params: Any) -> torch.optim.Optimizer:
    kwargs: dict[str, Any] = {"lr": settings.lr}
    if settings.optimizer in ("SGD", "RMSprop") and settings.momentum:
        kwargs["momentum"] = settings.momentum
    if settings.optimizer == "SGD" and settings.nesterov:
        kwargs["nesterov"] = True
    if settings.weight_decay:
        kwargs["weight_decay"] = settings.weight_decay
    return getattr(torch.optim, settings.optimizer)(params, **kwargs)


def make_scheduler(settings: TrainingSettings, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
    """The learning-rate schedule, built with the same arguments the exported script uses."""
    lr_scheduler = torch.optim.lr_scheduler
    kind = settings.scheduler
    if kind == "none":
        return None
    if kind == "StepLR":
        return lr_scheduler.StepLR(optimizer, step_size=settings.step_size, gamma=settings.gamma)
    if kind == "CosineAnnealingLR":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs)
    if kind == "OneCycleLR":
        return lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=settings.lr,
            total_steps=settings.epochs * steps_per_epoch,
            cycle_momentum=settings.optimizer not in NO_MOMENTUM,
        )
    if kind == "ReduceLROnPlateau":
        mode: Literal["min", "max"] = "max" if settings.monitor.endswith("accuracy") else "min"
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=settings.gamma, patience=PLATEAU_PATIENCE)
    raise TrainingError(f"Unknown scheduler {kind!r}.")  # pragma: no cover (settings validate it)
