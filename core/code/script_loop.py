"""The training loop of the exported script, written once: the script contains it and the app runs it.

``loop_functions`` emits ``make_optimizer``, ``make_scheduler`` (when there is one), the transfer-learning
helpers the project uses (``core.code.script_transfer``), ``train_one_epoch`` and ``end_of_epoch`` (when it
decides something: ReduceLROnPlateau's step on a score, or early stopping), specialised to the settings so a
beginner reads only the lines that apply (no gradient clipping line without clipping, no mixed precision on a
CPU-only project, no ``steps_per_epoch`` for a schedule that does not count batches). Their text is
``core/code/templates/loop.py``; this module says which of its tagged lines the settings keep.
``train_one_epoch`` takes ``on_batch=None``: the script leaves it out; the trainer (``core.training.trainer``)
passes a callback that draws the live curves and pauses or stops between batches, so the app runs this very
loop, and it calls ``end_of_epoch`` as the script's ``main`` (``core.code.script_main``) does.
"""

from __future__ import annotations

from core.code import script_transfer
from core.code.script_transfer import Transfer
from core.code.templates import function_lines
from core.datasets.info import dataset_info
from core.datasets.spec import parse_spec
from core.errors import DataError
from core.portable import steps
from core.settings import TrainingSettings

# ReduceLROnPlateau's patience (PyTorch's count: the rate is lowered after PLATEAU_PATIENCE + 1 epochs without
# improvement); with early stopping it is derived from PATIENCE instead (``plateau_constant``).
PLATEAU_PATIENCE = 3
NO_MOMENTUM = ("Adadelta", "Adagrad")  # OneCycleLR cannot cycle their momentum
# Below this many multiply-adds a batch (a sample's, ``core.model.compute``, times the batch size) training runs on
# one CPU thread. Measured with bench/thread_rule.py and the examples, one thread against the default two, on 2
# shared cores: with a core free (load 1.3), two threads were level (0.94 to 1.07 times as fast) up to 11 million
# a batch, every example under the limit among them, and 1.3 to 2.1 times as fast from 13 million (mnist_mlp, 52
# million: 1.7; resnet_small, 1.2 billion: 1.75); with both cores busy (load 4), one thread won at every size,
# 1.7 to 42 times (ResNet-18: 6). Under the limit one thread costs nothing on a quiet machine and wins on a busy
# one; from 13 to 20 million it loses 1.3 times on a quiet one and wins over 2 times on a busy one. Above it the
# script keeps PyTorch's default threads, as tutorials do.
SMALL_BATCH_MACS = 20_000_000
# Stepped once per epoch by ``scheduler.step()`` in ``main``, after validation, as PyTorch's docs write it
# (ReduceLROnPlateau is stepped once per epoch too, with a score: in ``end_of_epoch``).
STEPPED_IN_MAIN = ("StepLR", "CosineAnnealingLR")
SPANNED = ("CosineAnnealingLR", "OneCycleLR")  # laid over a number of epochs (T_max, total_steps)


def single_thread(multiply_adds: int, batch_size: int) -> bool:
    """Whether CPU training uses one thread, from a batch's multiply-adds (a sample's forward pass,
    ``core.model.compute.multiply_adds``, times the batch), not the parameters: a small convolution over a picture
    is much arithmetic with few weights. The app and the script decide alike, so their sums match."""
    return multiply_adds * batch_size < SMALL_BATCH_MACS


def uses_amp(s: TrainingSettings) -> bool:
    """Mixed precision lines only where they can act: on a device that may be a CUDA GPU."""
    return s.amp and s.device in ("auto", "cuda")


def classifies(s: TrainingSettings) -> bool:
    """A class loss: labels are class numbers and the predicted class is the largest output."""
    return s.loss in steps.CLASS_LOSSES


REGRESSION_LOSSES = ("MSELoss", "L1Loss", "SmoothL1Loss")


def regresses(s: TrainingSettings) -> bool:
    """Numbers to predict (a regression): the script then has no accuracy lines, and judges the test split by MAE,
    RMSE and R² as the app does. The data says so (``dataset_info``: a table's number label, a CSV of numeric
    labels); where it cannot be looked at here (a file elsewhere, a table too big to read after every edit), the
    loss does. MSELoss on class labels (one-hot rows) stays a classifier."""
    if s.loss not in REGRESSION_LOSSES:
        return False
    info = dataset_info(s.dataset)
    if info is not None and info.task is not None:
        return info.task == "regression"
    try:  # a folder's labels are its class sub-folders, even where it cannot be looked at (resnet18's ImageNet)
        return parse_spec(s.dataset).kind != "folder"
    except DataError:
        return True


def augments(s: TrainingSettings) -> list[str]:
    """The arguments of ``augment`` after the batch, empty when no transform is on; crop and jitter are
    written only when set, so a script without them reads as it did before they existed."""
    crop, jitter = float(s.augment_crop), float(s.augment_jitter)
    if not (s.augment_flip or s.augment_rotation or s.augment_shift or crop or jitter):
        return []
    args = [repr(bool(s.augment_flip)), repr(float(s.augment_rotation)), str(int(s.augment_shift))]
    return [*args, repr(crop), repr(jitter)] if crop or jitter else args


def train_epoch_parameters(s: TrainingSettings) -> list[str]:
    """The arguments ``train_one_epoch`` takes before ``on_batch`` (the trainer passes the same ones)."""
    names = ["model", "batches", "loss_fn", "optimizer"]
    if uses_amp(s):
        names.append("scaler")
    if s.scheduler == "OneCycleLR":
        names.append("scheduler")
    return names


def spans_phases(s: TrainingSettings, phases: bool) -> bool:
    """Whether ``make_scheduler`` takes the epochs it covers: a schedule laid over a number of epochs (``SPANNED``)
    in a two-phase run is made once per phase, over that phase's epochs (fastai's ``fine_tune`` fits one cycle
    per phase too); over all EPOCHS, phase two's cosine never reached its low end and OneCycleLR was cut off."""
    return phases and s.scheduler in SPANNED


def scheduler_parameters(s: TrainingSettings, phases: bool = False) -> list[str]:
    """The arguments of the script's ``make_scheduler`` (the trainer passes the same ones): only OneCycleLR,
    which counts batches, needs the number of batches an epoch has; in a two-phase run a ``SPANNED`` schedule
    takes the epochs of its phase."""
    names = ["optimizer", "steps_per_epoch"] if s.scheduler == "OneCycleLR" else ["optimizer"]
    return [*names, "epochs"] if spans_phases(s, phases) else names


def plateau_constant(s: TrainingSettings, keras: bool = False) -> list[str]:
    """``PLATEAU_PATIENCE``, the script's named constant (one item, its comment lines first), where
    ReduceLROnPlateau is the schedule. With early stopping a fixed 3 never acted: the rate is lowered after 4
    epochs without improvement and a PATIENCE up to 4 ends the run first. So it is derived from PATIENCE, the
    rate lowered after half of it, rounded up: ``check`` could only warn about a patience the user cannot set.
    keras: the Keras script's comment says why its callback gets one more (Keras lowers the rate after
    ``patience`` epochs without improvement, PyTorch after ``patience + 1``)."""
    if s.scheduler != "ReduceLROnPlateau":
        return []
    value = "(PATIENCE - 1) // 2" if s.early_stopping else str(PLATEAU_PATIENCE)
    lowered = "the rate is lowered after PLATEAU_PATIENCE + 1 epochs without improvement"
    if keras:
        half = " (half of PATIENCE, rounded up)" if s.early_stopping else ""
        why = (
            f"# As in the PyTorch script{half}: the rate is lowered after\n"
            "# PLATEAU_PATIENCE + 1 epochs without improvement, Keras' patience=PLATEAU_PATIENCE + 1"
        )
    elif s.early_stopping > 1:
        why = f"# ReduceLROnPlateau: {lowered}:\n# half of PATIENCE, rounded up, so before early stopping ends the run"
    elif s.early_stopping:
        why = f"# ReduceLROnPlateau: {lowered}\n# (PATIENCE 1 ends the run first)"
    else:
        why = f"# ReduceLROnPlateau: {lowered}"
    return [f"{why}\nPLATEAU_PATIENCE = {value}"]


def end_of_epoch_parameters(s: TrainingSettings) -> list[str]:
    """The arguments of the script's ``end_of_epoch`` (the trainer passes the same ones); [] when the script
    has none: neither ReduceLROnPlateau (stepped with a score) nor early stopping. A plain per-epoch schedule is
    no reason for one: ``main`` calls ``scheduler.step()`` itself (``STEPPED_IN_MAIN``)."""
    if not s.early_stopping and s.scheduler != "ReduceLROnPlateau":
        return []
    return ["history", "scheduler"] if s.scheduler == "ReduceLROnPlateau" else ["history"]


def loop_functions(s: TrainingSettings, augmenting: bool, transfer: Transfer) -> list[str]:
    """``make_optimizer``, ``make_scheduler`` (when there is one), the transfer-learning helpers the project
    uses, ``train_one_epoch`` and ``end_of_epoch`` (when there is one), separated by blank lines."""
    lines = _make_optimizer(s, transfer)
    if s.scheduler != "none":
        lines += ["", "", *_make_scheduler(s, transfer.phases)]
    if script_transfer.functions(transfer):
        lines += ["", "", *script_transfer.functions(transfer)]
    lines += ["", "", *_train_one_epoch(s, augmenting, transfer.norms)]
    if regresses(s):  # numbers to predict: the loss of a split, and the test judged as the app judges it
        lines += ["", "", *function_lines("loop", "evaluate"), "", "", *function_lines("loop", "regression_figures")]
    if end_of_epoch_parameters(s):
        lines += ["", "", *_end_of_epoch(s)]
    return lines


def _make_optimizer(s: TrainingSettings, transfer: Transfer) -> list[str]:
    """The optimizer; with frozen parts over the trainable weights only, and with two phases taking the
    learning rate as an argument (phase two's is lower)."""
    flags = {
        "frozen": bool(transfer.frozen),
        "phases": transfer.phases,
        "momentum": s.optimizer in ("SGD", "RMSprop") and bool(s.momentum),
        "nesterov": s.optimizer == "SGD" and s.nesterov,
        "decay": bool(s.weight_decay),
    }
    fill = {
        "OPTIMIZER": f"torch.optim.{s.optimizer}",
        "LR": "lr" if transfer.phases else "LEARNING_RATE",
        "MOMENTUM": repr(s.momentum),
        "WEIGHT_DECAY": repr(s.weight_decay),
    }
    return function_lines("loop", "make_optimizer", flags, fill)


def _make_scheduler(s: TrainingSettings, phases: bool) -> list[str]:
    """``make_scheduler``: with two phases a ``SPANNED`` schedule covers the epochs it is given, from the rate the
    phase's optimizer starts at (phase two's is lower: OneCycleLR's ``max_lr=LEARNING_RATE`` undid it)."""
    span = spans_phases(s, phases)
    flags = {
        "step": s.scheduler == "StepLR",
        "cosine": s.scheduler == "CosineAnnealingLR",
        "onecycle": s.scheduler == "OneCycleLR",
        "momentum": s.optimizer not in NO_MOMENTUM,
        "plateau": s.scheduler == "ReduceLROnPlateau",
        "span": span,
    }
    fill = {
        "SCHEDULER": f"torch.optim.lr_scheduler.{s.scheduler}",
        "STEP_SIZE": str(s.step_size),
        "GAMMA": repr(s.gamma),
        "MODE": '"max"' if s.monitor.endswith("accuracy") else '"min"',
        "CYCLED_MOMENTUM": cycled_momentum(s),
        **({"EPOCHS": "epochs", "LEARNING_RATE": 'optimizer.param_groups[0]["lr"]'} if span else {}),
    }
    return function_lines("loop", "make_scheduler", flags, fill)


def cycled_momentum(s: TrainingSettings) -> str:
    """What OneCycleLR's ``cycle_momentum`` (on by default) does to the optimizer, which its code does not show:
    it moves the momentum (Adam's beta1) between 0.95 and 0.85, so the value ``make_optimizer`` sets is never used,
    and plain SGD gets momentum it was not given."""
    if s.optimizer in ("Adam", "AdamW"):
        return f"{s.optimizer}'s beta1 between 0.95 and 0.85, replacing 0.9"
    if s.momentum:
        return f"the momentum between 0.95 and 0.85, replacing momentum={s.momentum!r}"
    return "the momentum between 0.95 and 0.85: it turns momentum on"


def _train_one_epoch(s: TrainingSettings, augmenting: bool, norms: bool) -> list[str]:
    """One epoch (``core/code/templates/loop.py``): forward, loss, zero_grad, backward, step, the order a tutorial
    teaches; it stops the script at the first loss that is not a number (nan or inf: no later step can recover
    from it), after ``on_batch`` has seen it (the trainer's says so in its own words). The count of right answers
    stays a tensor until the epoch ends: ``.item()`` on it each batch waited for the GPU a second time per batch."""
    flags = {
        "amp": uses_amp(s),  # the scaler is switched off off the GPU, and then these are plain steps
        "clip": bool(s.grad_clip),
        "onecycle": s.scheduler == "OneCycleLR",
        "classes": classifies(s),
        "regression": regresses(s),  # no count of right answers: numbers have no accuracy
        "augment": augmenting,
        "norms": norms,
        "dist": s.distributed,  # the sums, added up over the processes first
    }
    result = "tuple" if s.distributed else "dict"  # [str, float] would wrap the signature: 150 lines
    fill = {"*AUGMENT": ", ".join(augments(s)), "EPOCH_RESULT": result}
    return function_lines("loop", "train_one_epoch", flags, fill)


def _end_of_epoch(s: TrainingSettings) -> list[str]:
    """``end_of_epoch(history[, scheduler])``: ReduceLROnPlateau's step on the monitored score and, for early
    stopping, the epochs since the best score (read from the history: no state to keep). ``main`` keeps the best
    epoch's weights when it is 0 and stops once it reaches PATIENCE (the trainer does the same)."""
    stops = bool(s.early_stopping)
    flags = {
        "plateau": s.scheduler == "ReduceLROnPlateau",
        "stops": stops,
        "val": s.monitor.startswith("val_"),  # without validation data, the training score is watched
    }
    fill = {
        "RETURNS": "int" if stops else "None",
        "MONITOR": s.monitor,
        "FALLBACK": s.monitor.removeprefix("val_"),
        "max": "max" if s.monitor.endswith("accuracy") else "min",
    }
    return function_lines("loop", "end_of_epoch", flags, fill)
