"""The notebook's words for the steps only some projects have: transfer learning (its own cell, and what the loop
does after ``FREEZE_EPOCHS``) and a project set to run on several processes. Each sentence is chosen by the
functions the cell holds (the script's own choice, ``core.code.script_transfer``), so the words cannot promise a
line the cell lacks; the Keras beside them is the transfer-learning guide's (keras.io/guides/transfer_learning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.code.script_loop import SPANNED

if TYPE_CHECKING:
    from core.settings import TrainingSettings

ONE_PROCESS = (
    " A Jupyter kernel is one process, so these cells train as with *Run on several processes* off: to train on "
    "several GPUs or processes, export the script and run it with torchrun "
    "(`torchrun --nproc_per_node=4 train.py`, the README's torchrun section)."
)


def transfer_words(s: TrainingSettings, functions: set[str]) -> tuple[str, str]:
    """The title and markdown of the cell that loads the starting weights and freezes layers."""
    starts = bool(functions & {"start_from", "start_from_file"})
    frozen = "freeze" in functions
    title = {
        (True, True): "Start from pretrained weights and freeze some layers",
        (True, False): "Start from pretrained weights",
        (False, True): "Freeze some layers",
    }[starts, frozen]
    said = []
    if "start_from_file" in functions:
        said.append("`start_from_file` loads the weights of `INITIAL_WEIGHTS` into the model with `start_from`")
    elif starts:
        said.append("`start_from` loads torchvision's pretrained weights (`weights.get_state_dict()`) into the model")
    if starts:
        said[-1] += ", matched by name: a layer of another shape (a new head for your classes) keeps its new weights."
    if frozen:
        said.append(
            "`freeze` turns the gradients of the `FROZEN` layers off (`requires_grad_(False)`), and `make_optimizer` "
            "takes only the weights that still need them, so the frozen layers keep their values while the rest learn."
        )
    if "keep_frozen_norms_in_eval" in functions:
        said.append(
            "`train_one_epoch` calls `keep_frozen_norms_in_eval` after `model.train()`: a frozen BatchNorm keeps "
            "the statistics it learnt instead of taking those of your batches (Keras does the same for "
            "`trainable = False`)."
        )
    if "unfreeze" in functions:
        said.append(
            f"After `FREEZE_EPOCHS` ({s.freeze_epochs}) epochs the training loop calls `unfreeze`: phase two, every "
            "layer trains, at the lower rate `LEARNING_RATE * UNFREEZE_LR_FACTOR`."
        )
    if frozen:
        said.append(_keras_pair(s, "unfreeze" in functions))
    return title, " ".join(said)


def _keras_pair(s: TrainingSettings, phases: bool) -> str:
    """Keras' freezing beside ours: ``trainable = False``, compile, fit (then ``trainable = True``, compile at a low
    rate, fit again), with this project's constants."""
    optimizer = f"keras.optimizers.{s.optimizer}"
    fit = "model.fit(x_train, y_train, epochs={}, validation_data=(x_val, y_val))"
    lines = [
        '# base_model: the pretrained layers, e.g. keras.applications.Xception(weights="imagenet", include_top=False)',
        "base_model.trainable = False  # freeze(model)",
        f"model.compile(optimizer={optimizer}(LEARNING_RATE), loss=...)",
        fit.format("FREEZE_EPOCHS" if phases else "EPOCHS"),
    ]
    if phases:
        lines += [
            "base_model.trainable = True  # unfreeze(model)",
            f"model.compile(optimizer={optimizer}(LEARNING_RATE * UNFREEZE_LR_FACTOR), loss=...)",
            fit.format("EPOCHS - FREEZE_EPOCHS"),
        ]
    which = "two phases" if phases else "frozen layers"
    return f"Keras' transfer-learning guide writes the same {which} as\n\n```python\n" + "\n".join(lines) + "\n```"


def phase_two_words(s: TrainingSettings, functions: set[str]) -> str:
    """What the loop does after ``FREEZE_EPOCHS``, when the project trains in two phases."""
    if "unfreeze" not in functions:
        return ""
    schedule = " and a new schedule" if "make_scheduler" in functions else ""
    if schedule and s.scheduler in SPANNED:  # laid over epochs: phase one's covered FREEZE_EPOCHS
        schedule += " over the epochs left (`EPOCHS - FREEZE_EPOCHS`)"
    rate = s.lr * s.unfreeze_lr_factor
    return (
        f" After `FREEZE_EPOCHS` ({s.freeze_epochs}) epochs, phase two: `unfreeze(model)` makes every layer "
        f"trainable and returns a new optimizer at `LEARNING_RATE * UNFREEZE_LR_FACTOR` ({rate:g}){schedule} "
        "(Keras: `base_model.trainable = True`, then `model.compile` again with that rate and `model.fit` on)."
    )
