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
    whose ``end_of_epoch`` stops at once (more epochs since the best than PATIENCE) stops the app's run after one
    epoch."""
    import core.training.trainer as trainer_module

    project = mlp_project([64], 16, 10, dataset="digits", epochs=4, early_stopping=3)
    code = generate_script(project)
    assert "return len(scores) - 1 - best\n" in code.source  # the epochs since the best: 0 at the first epoch
    code.source = code.source.replace("return len(scores) - 1 - best\n", "return 100\n")
    monkeypatch.setattr(trainer_module, "generate_script", lambda _project: code)
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    assert len(result.history) == 1 and result.message.startswith("Early stopping")


def _main(source: str) -> str:
    return source[source.index("def main() -> None:") :]


def test_a_plain_per_epoch_schedule_is_stepped_in_main_without_wrappers() -> None:
    """Review 5 R12: resnet_small's script built its CosineAnnealingLR with ``make_scheduler(optimizer,
    steps_per_epoch)`` (unused; ``import math`` and the count only for it) and stepped it through
    ``end_of_epoch(history, scheduler)``, whose only line was ``scheduler.step()``. Now main calls
    ``scheduler.step()`` after validation, as PyTorch's docs write it."""
    source = generate_script(example("resnet_small")).source
    assert "def make_scheduler(optimizer: torch.optim.Optimizer):" in source
    assert "steps_per_epoch" not in source and "import math" not in source
    assert "end_of_epoch" not in source
    main = _main(source)
    stepped = main.index("        scheduler.step()")
    assert main.index("evaluate(model, x_val") < stepped < main.index("evaluate(model, x_test")


@pytest.mark.parametrize(
    ("scheduler", "early_stopping", "end_of_epoch", "counts_steps"),
    [
        ("StepLR", 0, None, False),
        ("StepLR", 2, "def end_of_epoch(history: list) -> int:", False),
        ("ReduceLROnPlateau", 0, "def end_of_epoch(history: list, scheduler) -> None:", False),
        ("ReduceLROnPlateau", 2, "def end_of_epoch(history: list, scheduler) -> int:", False),
        ("OneCycleLR", 2, "def end_of_epoch(history: list) -> int:", True),
        ("none", 0, None, False),
    ],
)
def test_each_schedule_carries_only_what_it_needs(scheduler, early_stopping, end_of_epoch, counts_steps) -> None:
    """``end_of_epoch`` only where it decides something (a score for ReduceLROnPlateau, early stopping);
    ``steps_per_epoch`` only for OneCycleLR, which counts batches."""
    project = example("digits_mlp", scheduler=scheduler, early_stopping=early_stopping, monitor="val_loss")
    source = generate_script(project).source
    assert (end_of_epoch in source) if end_of_epoch else "end_of_epoch" not in source
    assert ("steps_per_epoch" in source) == counts_steps
    assert ("\n        scheduler.step()" in _main(source)) == (scheduler == "StepLR")
    if scheduler == "ReduceLROnPlateau":
        assert "scheduler.step(scores[-1])" in source
    script, _ = run_as_module(source)  # the functions the trainer calls exist with the arguments it passes
    if scheduler != "none":
        optimizer = script.make_optimizer(script.Net())
        script.make_scheduler(optimizer, *([5] if counts_steps else []))


@pytest.mark.parametrize(
    ("scheduler", "patched", "halved_at"),
    [("StepLR", False, [2, 3, 4, 5, 6]), ("ReduceLROnPlateau", False, [6]), ("ReduceLROnPlateau", True, [])],
)
def test_the_app_steps_the_schedule_as_the_script_s_main_does(monkeypatch, scheduler, patched, halved_at) -> None:
    """A plain schedule is stepped after validation as ``main`` does (StepLR halves the rate every epoch);
    ReduceLROnPlateau through the script's own ``end_of_epoch`` (a rate too small to improve the loss: lowered
    after 3 epochs of patience), so with that step taken out of the script the rate never moves."""
    import core.training.trainer as trainer_module

    settings = {"scheduler": scheduler, "step_size": 1, "gamma": 0.5, "epochs": 6, "lr": 1e-6, "optimizer": "SGD"}
    project = mlp_project([64], 16, 10, dataset="digits", **settings)
    code = generate_script(project)
    if patched:
        assert "    scheduler.step(scores[-1])\n" in code.source
        code.source = code.source.replace("    scheduler.step(scores[-1])\n", "    pass\n")
    monkeypatch.setattr(trainer_module, "generate_script", lambda _project: code)
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    halvings = [sum(1 for epoch in halved_at if epoch <= row["epoch"]) for row in result.history]
    assert [row["lr"] for row in result.history] == [1e-6 * 0.5**n for n in halvings]


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
