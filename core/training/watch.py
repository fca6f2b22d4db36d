"""The one place a training run lets others look inside it: watchers the trainer calls between batches.

Layer health (issue 28), a learning-rate range test and any later view attach here instead of editing the loop:
the trainer tells each watcher the run folder (``attach_folder``: a watcher that writes files puts them there),
hands it the model and optimizer once, calls it after every batch with the step and loss
(the gradients of that batch are still on the parameters, the optimizer has stepped), after every epoch with the
epoch's row of figures (what a diagnosis about accuracy needs: batches never see it), and detaches it when the
run ends, however it ends. ``attach_folder`` and ``after_epoch`` have default bodies: a watcher may subclass
``Watcher`` and leave them out, and one written before they existed is not told (``optional_hook``).
A watcher keeps its own cost down (it samples every N batches) and reports through whatever callback it was built
with; it never stops the run itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    import torch


class Watcher(Protocol):
    def attach_folder(self, folder: Path | None) -> None:
        """Called first with the run folder (None when the run saves nothing)."""
        return None

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Called once, after the model is on its device and the optimizer made, before the first batch."""

    def after_batch(self, step: int, loss: float) -> None:
        """Called after each training batch (``step`` counts from 1 over the whole run)."""

    def after_epoch(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        """Called after each finished epoch's validation with its figures: ``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy`` (None for a regression; ``val_*`` NaN without a validation split), ``lr``, ``seconds``
        and ``classes`` (the dataset's number of classes; None for a regression)."""
        return None

    def detach(self) -> None:
        """Called once when the run ends (finished, stopped or failed): remove hooks, flush summaries."""


def optional_hook(watcher: Any, name: str) -> Callable[..., None] | None:
    """The watcher's ``attach_folder`` or ``after_epoch``, or None for one written before they existed."""
    hook = getattr(watcher, name, None)
    return hook if callable(hook) else None
