"""Training settings stored in the project file: what to train on and how."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import ParameterError

LOSSES = ("CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss")
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainingSettings:
    dataset: str = "digits"  # a dataset spec: digits, spirals, mnist, npz:PATH, idx:IMAGES,LABELS, ...
    loss: str = "CrossEntropyLoss"
    optimizer: str = "Adam"
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 10
    device: str = "auto"
    seed: int = 0
    val_fraction: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSettings:
        """Validated settings; raises ParameterError naming the field. Unknown keys are ignored here."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                values[key] = value
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        def number(name: str, value: Any, lo: float, hi: float, integer: bool = False) -> None:
            ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
            if isinstance(value, bool) or not ok_type or not math.isfinite(value) or not lo <= value <= hi:
                kind = "a whole number" if integer else "a number"
                raise ParameterError(f"training.{name} must be {kind} from {lo:g} to {hi:g}, not {value!r}")

        if not isinstance(self.dataset, str) or not self.dataset or len(self.dataset) > 4096:
            raise ParameterError(f"training.dataset must be a dataset name or spec, not {self.dataset!r}")
        for name, value, choices in (
            ("loss", self.loss, LOSSES),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("device", self.device, DEVICES),
        ):
            if value not in choices:
                raise ParameterError(f"training.{name} must be one of {', '.join(choices)}, not {value!r}")
        number("lr", self.lr, 1e-12, 1e6)
        number("batch_size", self.batch_size, 1, 1_000_000, integer=True)
        number("epochs", self.epochs, 1, 100_000, integer=True)
        number("seed", self.seed, 0, 2**32 - 1, integer=True)
        number("val_fraction", self.val_fraction, 0.0, 0.9)
        self.lr = float(self.lr)
        self.val_fraction = float(self.val_fraction)
