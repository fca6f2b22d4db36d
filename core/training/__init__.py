"""The training engine: a plain loop in core that reports through events; the GUI and the CLI drive it.

``Trainer`` is imported on first use (PEP 562): the trainer imports torch (~500 MB and seconds on a small
machine), and ``core.training``'s light modules (events, run folders) are wanted by an editor window that has
not trained yet, which then need not pay for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.training.events import TrainEvent, TrainResult

if TYPE_CHECKING:
    from core.training.trainer import Trainer

__all__ = ["TrainEvent", "TrainResult", "Trainer"]


def __getattr__(name: str) -> Any:
    if name == "Trainer":
        from core.training.trainer import Trainer  # deferred for start-up: torch (see above)

        return Trainer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
