"""The exported script's epoch loop is the app's (issue 24): the trainer validates with the script's ``evaluate``
and closes each epoch with its ``end_of_epoch``; the script stops at the first loss that is not a number
(issue 28); a short script's ``evaluate`` gives nan for a split without samples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import example, mlp_project


def _npz(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "digits.npz"
    np.savez(path, x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), y_train=np.arange(40) % 10)
    return path


def test_the_short_evaluate_gives_nan_for_a_split_without_samples(tmp_path) -> None:
    """It gave 0.0: with no validation split, early stopping watched a val_loss of 0 that never improved and
    stopped after PATIENCE epochs instead of watching the training loss."""
    source = generate_script(example("mnist_mlp", dataset=f"npz:{_npz(tmp_path)}", early_stopping=2)).source
    assert "def split(" in source  # the short loader and its evaluate
    script, _ = run_as_module(source)
    model = script.Net()
    empty_x, empty_y = torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.int64)
    loss, accuracy = script.evaluate(model, empty_x, empty_y, torch.nn.CrossEntropyLoss(), 256)
    assert math.isnan(loss) and math.isnan(accuracy)


def test_the_app_stops_when_the_script_s_end_of_epoch_says_so(monkeypatch) -> None:
    """The trainer used its own copy of early stopping; now it calls the script's ``end_of_epoch``, so a script
    whose ``end_of_epoch`` stops at once stops the app's run after one epoch."""
    import core.training.trainer as trainer_module

    project = mlp_project([64], 16, 10, dataset="digits", epochs=4, early_stopping=3)
    code = generate_script(project)
    assert "return len(scores) - 1 - best >= PATIENCE" in code.source
    code.source = code.source.replace("return len(scores) - 1 - best >= PATIENCE", "return True")
    monkeypatch.setattr(trainer_module, "generate_script", lambda _project: code)
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    assert len(result.history) == 1 and result.message.startswith("Early stopping")


def test_the_app_steps_the_schedule_through_the_script_s_end_of_epoch(monkeypatch) -> None:
    import core.training.trainer as trainer_module

    project = mlp_project([64], 16, 10, dataset="digits", epochs=3, scheduler="StepLR", step_size=1, gamma=0.5)
    code = generate_script(project)
    assert "def end_of_epoch(history: list, scheduler) -> None:" in code.source
    code.source = code.source.replace("    scheduler.step()\n\n\ndef main", "    pass\n\n\ndef main")
    monkeypatch.setattr(trainer_module, "generate_script", lambda _project: code)
    result = Trainer(project, save=False).run()
    assert [row["lr"] for row in result.history] == [project.training.lr] * 3  # never stepped


@pytest.mark.parametrize("amp", [False, True])
def test_the_script_stops_at_the_first_loss_that_is_not_a_number(amp: bool) -> None:
    """Issue 28: the exported script trained on after a nan loss; now it stops at that batch, after on_batch
    (the app's hook) has seen it."""
    project = mlp_project([64], 16, 10, dataset="digits", amp=amp, device="auto")
    script, _ = run_as_module(generate_script(project).source)
    torch.manual_seed(0)
    model = script.Net()
    x = torch.randn(5, 8, 64)
    x[2, 3, 0] = math.nan  # the third batch
    batches = [(x[i], torch.arange(8) % 10) for i in range(5)]
    seen: list[float] = []
    optimizer = script.make_optimizer(model)
    args = {"model": model, "batches": batches, "loss_fn": torch.nn.CrossEntropyLoss(), "optimizer": optimizer}
    if amp:
        args["scaler"] = torch.amp.GradScaler("cuda", enabled=False)
    with pytest.raises(SystemExit, match="The loss became nan"):
        script.train_one_epoch(**args, on_batch=lambda outputs, labels, loss: seen.append(loss))
    assert len(seen) == 3 and math.isnan(seen[-1])
