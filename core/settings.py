"""Training settings stored in the project file: what to train on and how."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.errors import ParameterError

LOSSES = ("CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss")
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad")
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEDULERS = ("none", "StepLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
# What the data is standardised with: not at all, its own statistics (True) or a pretrained network's (mean, std).
Normalization = bool | tuple[list[float], list[float]]


@dataclass
class TrainingSettings:
    dataset: str = "digits"  # a dataset spec: digits, spirals, mnist, npz:PATH, idx:IMAGES,LABELS, ...
    loss: str = "CrossEntropyLoss"
    optimizer: str = "Adam"
    lr: float = 1e-3
    # One set of defaults: the first-start example's (Keras' batch of 32, a fifth held out for validation), so a
    # File > New project starts where the example did.
    batch_size: int = 32
    epochs: int = 20
    device: str = "auto"
    seed: int = 0
    val_fraction: float = 0.2
    # Added by the training engine; every field has a default so older project files still load.
    test_fraction: float = 0.1  # held out for the final test when the source has no test split
    normalize: bool = True  # standardise inputs with the training split's mean and std
    resize: list[int] = field(default_factory=list)  # [height, width] for images; [] keeps the size
    # A pretrained network's own preprocessing: the mean and std per channel its weights were trained with
    # (ImageNet's, from torchvision's ``weights.transforms()``) used instead of the data's; [] = the data's.
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    augment_flip: bool = False
    augment_rotation: float = 0.0  # degrees, drawn per image from [-r, r]
    augment_shift: int = 0  # pixels, drawn per image from [-s, s] in both directions
    augment_crop: float = 0.0  # a random part of 1 - c to all of the area, resized back (0: off)
    augment_jitter: float = 0.0  # brightness, contrast (and saturation) by up to +-j (0: off)
    momentum: float = 0.0  # SGD and RMSprop
    nesterov: bool = False  # SGD only; needs momentum > 0
    weight_decay: float = 0.0
    scheduler: str = "none"
    step_size: int = 10  # StepLR: epochs between decays
    gamma: float = 0.1  # StepLR / ReduceLROnPlateau: factor applied to the learning rate
    grad_clip: float = 0.0  # largest gradient norm; 0 turns clipping off
    early_stopping: int = 0  # stop after this many epochs without improvement; 0 turns it off
    monitor: str = "val_loss"  # what early stopping, ReduceLROnPlateau and best.pt watch
    amp: bool = True  # mixed precision, used on CUDA only
    deterministic: bool = False  # deterministic algorithms (slower on GPU)
    fine_tune: bool = False  # start from the project's initial weights (an imported model's), not from scratch
    distributed: bool = False  # the exported script also runs under torchrun (DistributedDataParallel lines)
    # Fine-tuning in two phases (fastai's ``fine_tune(freeze_epochs)``): the first ``freeze_epochs`` epochs train
    # with the frozen nodes frozen; then everything trains at ``lr * unfreeze_lr_factor``. 0 keeps one phase.
    freeze_epochs: int = 0
    unfreeze_lr_factor: float = 0.1
    # Starting weights from a file (.pt or .safetensors, matched by name) or an earlier run's folder; "" = none.
    initial_weights: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def normalization(self) -> Normalization:
        """What ``core.portable.steps.prepare`` normalises with: False, True (the training split's statistics)
        or the fixed (mean, std) of pretrained weights."""
        return (list(self.mean), list(self.std)) if self.normalize and self.mean else self.normalize

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

        if not isinstance(self.dataset, str) or len(self.dataset) > 4096:  # "": not chosen yet (an imported model)
            raise ParameterError(f"training.dataset must be a dataset name or spec, not {self.dataset!r}")
        for name, value, choices in (
            ("loss", self.loss, LOSSES),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("device", self.device, DEVICES),
            ("scheduler", self.scheduler, SCHEDULERS),
            ("monitor", self.monitor, MONITORS),
        ):
            if value not in choices:
                raise ParameterError(f"training.{name} must be one of {', '.join(choices)}, not {value!r}")
        number("lr", self.lr, 1e-12, 1e6)
        number("batch_size", self.batch_size, 1, 1_000_000, integer=True)
        number("epochs", self.epochs, 1, 100_000, integer=True)
        number("seed", self.seed, 0, 2**32 - 1, integer=True)
        number("val_fraction", self.val_fraction, 0.0, 0.9)
        number("test_fraction", self.test_fraction, 0.0, 0.5)
        if self.val_fraction + self.test_fraction > 0.9:
            raise ParameterError("training.val_fraction and test_fraction together must leave 10% to train on")
        number("augment_rotation", self.augment_rotation, 0.0, 180.0)
        number("augment_shift", self.augment_shift, 0, 1000, integer=True)
        number("augment_crop", self.augment_crop, 0.0, 0.9)  # 0.9: a tenth of the image is still something
        number("augment_jitter", self.augment_jitter, 0.0, 1.0)
        number("momentum", self.momentum, 0.0, 0.999)
        number("weight_decay", self.weight_decay, 0.0, 1.0)
        number("step_size", self.step_size, 1, 100_000, integer=True)
        number("gamma", self.gamma, 1e-6, 1.0)
        number("grad_clip", self.grad_clip, 0.0, 1e6)
        number("early_stopping", self.early_stopping, 0, 100_000, integer=True)
        number("freeze_epochs", self.freeze_epochs, 0, 100_000, integer=True)
        number("unfreeze_lr_factor", self.unfreeze_lr_factor, 1e-6, 1.0)
        if not isinstance(self.initial_weights, str) or len(self.initial_weights) > 4096:
            raise ParameterError(f"training.initial_weights must be a file path or empty, not {self.initial_weights!r}")
        for name in ("normalize", "augment_flip", "nesterov", "amp", "deterministic", "fine_tune", "distributed"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"training.{name} must be true or false, not {getattr(self, name)!r}")
        if self.nesterov and self.momentum <= 0:
            raise ParameterError("training.nesterov needs a momentum above 0 (for example 0.9)")
        if not isinstance(self.resize, (list, tuple)) or len(self.resize) not in (0, 2):
            raise ParameterError(f"training.resize must be [] or [height, width], not {self.resize!r}")
        for size in self.resize:
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 4096:
                raise ParameterError(f"training.resize sizes must be whole numbers from 1 to 4096, not {size!r}")
        self.resize = list(self.resize)
        for name in ("mean", "std"):
            values = getattr(self, name)
            if not isinstance(values, (list, tuple)) or len(values) not in (0, 1, 3):
                raise ParameterError(f"training.{name} must be [] or one number per channel (1 or 3), not {values!r}")
            for value in values:
                number(name, value, -1e6 if name == "mean" else 1e-12, 1e6)
            setattr(self, name, [float(v) for v in values])
        if len(self.mean) != len(self.std):
            raise ParameterError(
                f"training.mean and training.std need one number per channel each: {len(self.mean)} means but "
                f"{len(self.std)} stds"
            )
        for name in ("lr", "val_fraction", "test_fraction", "augment_rotation", "augment_crop", "augment_jitter"):
            setattr(self, name, float(getattr(self, name)))
        for name in ("momentum", "weight_decay"):
            setattr(self, name, float(getattr(self, name)))
        self.gamma = float(self.gamma)
        self.grad_clip = float(self.grad_clip)
        self.unfreeze_lr_factor = float(self.unfreeze_lr_factor)
