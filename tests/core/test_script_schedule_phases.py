"""Review 6 S10, S11, S19, S21: the schedule of the exported script (the app runs the same functions). Phase two's
schedule covers the epochs left and starts from phase two's rate; ReduceLROnPlateau's patience is a named constant
that acts before early stopping does; the distributed lines read at once and say what they keep; OneCycleLR's
momentum cycle is said where it is made; phase two's print is a sentence."""

from __future__ import annotations

import math

import pytest

from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from core.files.project import Project
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import example, mlp_project


def _two_phases(**training) -> Project:
    """Input [64] -> fc1 (frozen) -> ReLU -> fc2 on digits, phase two after 2 of 4 epochs at a tenth of the rate."""
    settings = {"epochs": 4, "freeze_epochs": 2, "lr": 0.01, "unfreeze_lr_factor": 0.1, "batch_size": 64}
    project = mlp_project([64], 16, 10, dataset="digits", **{**settings, **training})
    project.graph.set_trainable(project.graph.by_name("fc1").id, False)
    return project


def _cosine(base: float, epoch: int, epochs: int) -> float:
    return base * (1 + math.cos(math.pi * epoch / epochs)) / 2


def test_each_phase_anneals_its_cosine_over_its_own_epochs() -> None:
    """S10: phase two made CosineAnnealingLR(T_max=EPOCHS), so over 2 epochs left of 4 its rate only fell to 85% of
    where it started; now each phase's schedule covers its own epochs (fastai's fine_tune: a cycle per phase)."""
    project = _two_phases(scheduler="CosineAnnealingLR")
    source = generate_script(project).source
    assert "T_max=epochs" in source and "scheduler = make_scheduler(optimizer, FREEZE_EPOCHS)" in source
    assert "scheduler = make_scheduler(optimizer, EPOCHS - FREEZE_EPOCHS)" in source
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    expected = [_cosine(0.01, 0, 2), _cosine(0.01, 1, 2), _cosine(0.001, 0, 2), _cosine(0.001, 1, 2)]
    assert [row["lr"] for row in result.history] == pytest.approx(expected, rel=1e-9)


def test_phase_two_s_one_cycle_peaks_at_phase_two_s_rate_and_ends_with_it() -> None:
    """S10: phase two's OneCycleLR had max_lr=LEARNING_RATE (ten times phase two's rate) and total_steps for all
    EPOCHS, so it was cut off mid-cycle; now it cycles over the epochs left, up to the rate unfreeze gave."""
    project = _two_phases(scheduler="OneCycleLR", optimizer="SGD", momentum=0.9)
    source = generate_script(project).source
    assert 'max_lr=optimizer.param_groups[0]["lr"]' in source and "total_steps=epochs * steps_per_epoch" in source
    script, _ = run_as_module(source)
    model = script.Net()
    script.freeze(model)
    rates = []
    for optimizer, epochs in ((script.make_optimizer(model), 2), (script.unfreeze(model), 2)):
        scheduler = script.make_scheduler(optimizer, 5, epochs)
        for _ in range(epochs * 5):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
    assert max(rates[:10]) == pytest.approx(0.01) and max(rates[10:]) == pytest.approx(0.001)
    assert rates[9] < 1e-5 and rates[19] < 1e-6  # each cycle runs to its end
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message
    assert result.history[2]["lr"] <= 0.001  # the app's phase two: the same function, the same rates


@pytest.mark.parametrize(("patience", "value"), [(0, "3"), (2, "(PATIENCE - 1) // 2"), (4, "(PATIENCE - 1) // 2")])
def test_plateau_patience_is_named_and_acts_before_early_stopping(patience, value) -> None:
    """S11: ReduceLROnPlateau(patience=3) lowered the rate after 4 epochs without improvement, and early stopping
    with PATIENCE up to 4 ended the run first: the schedule the user chose never acted. Now PLATEAU_PATIENCE is a
    named constant, half of PATIENCE (rounded up) with early stopping, and the rate is lowered before the stop."""
    settings = {"scheduler": "ReduceLROnPlateau", "early_stopping": patience, "lr": 0.1, "epochs": 9}
    project = mlp_project([64], 16, 10, dataset="digits", optimizer="SGD", gamma=0.5, **settings)
    source = generate_script(project).source
    assert f"\nPLATEAU_PATIENCE = {value}\n" in source and "patience=PLATEAU_PATIENCE" in source
    keras = generate_keras_script(project)  # Keras lowers the rate after `patience` epochs: one more
    assert f"\nPLATEAU_PATIENCE = {value}\n" in keras and "patience=PLATEAU_PATIENCE + 1" in keras
    if not patience:
        return
    script, _ = run_as_module(source)  # the functions main and the app call, on a score that never improves
    optimizer = script.make_optimizer(script.Net())
    scheduler = script.make_scheduler(optimizer)
    history: list[dict] = []
    lowered = []  # the epochs after which the rate was lowered
    for epoch in range(1, 10):
        history.append({"epoch": epoch, "loss": 1.0, "val_loss": 1.0})
        since_best = script.end_of_epoch(history, scheduler)
        if optimizer.param_groups[0]["lr"] < 0.1 * 0.5 ** len(lowered):
            lowered.append(epoch)
        if since_best >= patience:
            break
    assert epoch == patience + 1  # early stopping ends the run PATIENCE epochs after the first, the best
    # the rate was lowered after half of PATIENCE's epochs without improvement (rounded up), and then trained
    assert lowered[0] == 1 + (patience + 1) // 2 < epoch


def test_the_distributed_script_says_one_machine_or_gives_the_line_for_several() -> None:
    """S19: the docstring said 'of one machine or several' with the one-machine torchrun line only."""
    source = generate_script(example("digits_mlp", distributed=True)).source
    doc = source[: source.index('"""', 3)]
    assert "one machine or several" not in doc
    assert "torchrun --nproc_per_node=N this_file.py" in doc and "--nnodes=M" in doc and "--rdzv-endpoint" in doc


@pytest.mark.parametrize(
    ("optimizer", "momentum", "said"),
    [
        ("SGD", 0.9, "the momentum between 0.95 and 0.85, replacing momentum=0.9"),
        ("SGD", 0.0, "the momentum between 0.95 and 0.85: it turns momentum on"),
        ("Adam", 0.0, "Adam's beta1 between 0.95 and 0.85, replacing 0.9"),
    ],
)
def test_one_cycle_says_it_cycles_the_momentum(optimizer, momentum, said) -> None:
    """S21: OneCycleLR's cycle_momentum replaced the optimizer's momentum (and turned it on for plain SGD) without
    a word; the comment stands where it is made, and only where it applies (Adagrad has none to cycle)."""
    project = example("digits_mlp", scheduler="OneCycleLR", optimizer=optimizer, momentum=momentum)
    assert f"    # OneCycleLR also cycles {said}\n" in generate_script(project).source
    none = generate_script(example("digits_mlp", scheduler="OneCycleLR", optimizer="Adagrad")).source
    assert "also cycles" not in none and "cycle_momentum=False" in none


def test_phase_two_s_print_is_a_sentence() -> None:
    """S21: print(f"Phase two: every layer trains, at {...:g}",) - a bare number and a stray trailing comma."""
    source = generate_script(_two_phases(scheduler="StepLR", step_size=1)).source
    assert '"Phase two: every layer trains now, at learning rate "\n' in source
    assert ':g}",\n' not in source


def test_the_notebook_says_phase_two_s_schedule_covers_the_epochs_left() -> None:
    """S10 in the notebook's words: phase two's new schedule is laid over EPOCHS - FREEZE_EPOCHS."""
    from core.code.notebook_words import phase_two_words

    cosine = _two_phases(scheduler="CosineAnnealingLR").training
    assert "a new schedule over the epochs left (`EPOCHS - FREEZE_EPOCHS`)" in phase_two_words(
        cosine, {"unfreeze", "make_scheduler"}
    )
    steps = _two_phases(scheduler="StepLR").training  # counts epochs from its start: no span to say
    assert "epochs left" not in phase_two_words(steps, {"unfreeze", "make_scheduler"})
