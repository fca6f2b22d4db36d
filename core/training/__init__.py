"""The training engine: a plain loop in core that reports through events; the GUI and the CLI drive it."""

from core.training.events import TrainEvent, TrainResult
from core.training.trainer import Trainer

__all__ = ["TrainEvent", "TrainResult", "Trainer"]
