"""The training settings added by the engine: defaults that old project files get, and validation by field."""

from __future__ import annotations

import pytest

from core.errors import ParameterError
from core.settings import TrainingSettings


def test_old_settings_get_the_new_defaults() -> None:
    old = {"dataset": "digits", "loss": "CrossEntropyLoss", "optimizer": "Adam", "lr": 0.001, "batch_size": 32}
    settings = TrainingSettings.from_dict(old)
    assert (settings.test_fraction, settings.normalize, settings.scheduler, settings.grad_clip) == (
        0.1,
        True,
        "none",
        0.0,
    )
    assert settings.resize == [] and settings.amp and not settings.deterministic
    assert TrainingSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("scheduler", "Cyclic", "training.scheduler must be one of"),
        ("monitor", "f1", "training.monitor must be one of"),
        ("test_fraction", 0.7, "training.test_fraction must be a number from 0 to 0.5"),
        ("momentum", 1.5, "training.momentum"),
        ("weight_decay", -1, "training.weight_decay"),
        ("grad_clip", "big", "training.grad_clip"),
        ("early_stopping", 2.5, "training.early_stopping must be a whole number"),
        ("augment_rotation", 400, "training.augment_rotation"),
        ("normalize", "yes", "training.normalize must be true or false"),
        ("resize", [28], "training.resize must be [] or [height, width]"),
        ("resize", [28, 0], "training.resize sizes"),
        ("step_size", 0, "training.step_size"),
    ],
)
def test_bad_values_name_the_field(field: str, value: object, words: str) -> None:
    with pytest.raises(ParameterError, match=words.replace("[", r"\[").replace("]", r"\]")):
        TrainingSettings.from_dict({field: value})


def test_nesterov_needs_momentum_and_splits_leave_data_to_train() -> None:
    with pytest.raises(ParameterError, match="nesterov needs a momentum"):
        TrainingSettings.from_dict({"optimizer": "SGD", "nesterov": True})
    with pytest.raises(ParameterError, match="leave 10% to train on"):
        TrainingSettings.from_dict({"val_fraction": 0.5, "test_fraction": 0.45})
    ok = TrainingSettings.from_dict({"optimizer": "SGD", "nesterov": True, "momentum": 0.9, "resize": [32, 32]})
    assert ok.momentum == 0.9 and ok.resize == [32, 32]
