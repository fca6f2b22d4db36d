"""The exported script's ``main``: set up, then epoch by epoch ``train_one_epoch``, ``evaluate`` and
``end_of_epoch`` (``core.code.script_loop`` writes those), then test and save.

Only with the setting ``distributed`` does the script run under ``torchrun`` (docs/SCALING.md): then a few
lines marked "distributed" start the process group, wrap the model in ``DistributedDataParallel``, give each
process its shard of every epoch's order, add up the sums of all processes and leave printing and saving to
the first one; ``python train.py`` skips them and runs as one process. The trainer does not run ``main``: it
runs the functions ``main`` calls, in the same order (``core.training.trainer``).
The text is ``core/code/templates/main.py``: this module says which of its tagged lines a project keeps.
"""

from __future__ import annotations

from core.code.script_data import saves_vocab
from core.code.script_loop import (
    STEPPED_IN_MAIN,
    classifies,
    regresses,
    single_thread,
    spans_phases,
    uses_amp,
)
from core.code.script_transfer import Transfer
from core.code.templates import function_lines
from core.datasets.spec import parse_spec
from core.settings import TrainingSettings


def main_lines(
    s: TrainingSettings, multiply_adds: int, npz: bool, transfer: Transfer, stream: bool = False
) -> list[str]:
    """The script's ``main``: set up, train epoch by epoch with ``train_one_epoch``, validate with ``evaluate``,
    close the epoch with ``end_of_epoch``, test and save (multiply_adds: a sample's, which decide one CPU thread;
    npz: the data is read by the short ``np.load`` loader, whose errors are named too; stream: a big image folder,
    a Dataset per split read through DataLoaders, whose labels are class numbers: no numeric-target lines)."""
    flags = {
        **{device: s.device == device for device in ("cpu", "cuda", "mps", "auto")},
        "dist": s.distributed,
        "small": single_thread(multiply_adds, s.batch_size),
        "npz": npz,
        "initial": bool(transfer.file or transfer.torchvision),
        "torchvision": bool(transfer.torchvision),  # downloaded once into torch's cache, its hash checked
        "safetensors": transfer.safetensors,
        "frozen": bool(transfer.frozen),
        "phases": transfer.phases,
        "classes": classifies(s) or stream,
        "class_loss": classifies(s),  # a big image folder's evaluate takes no loss name
        "regression": regresses(s) and not stream,  # numbers to predict: no accuracy
        "stream": stream,
        "sched": s.scheduler != "none",
        "epochly": s.scheduler in STEPPED_IN_MAIN,  # scheduler.step() after validation
        "onecycle": s.scheduler == "OneCycleLR",  # the only one given steps_per_epoch
        "span": spans_phases(s, transfer.phases),  # one schedule per phase, over its epochs
        "plateau": s.scheduler == "ReduceLROnPlateau",  # stepped with a score in end_of_epoch
        "amp": uses_amp(s),
        "stops": bool(s.early_stopping),
        "vocab": saves_vocab(parse_spec(s.dataset)),  # load_data gives it after the splits: saved with the weights
    }
    fill = {
        "LOSS_FN": f"nn.{s.loss}",
        "TORCHVISION_WEIGHTS": transfer.torchvision,
        "MONITOR": s.monitor,
        "EPOCH_WORD": epochs_word(s.early_stopping),
    }
    if stream:  # steps_per_epoch counts the training Dataset
        fill["x_train"] = "train_set"
    if flags["regression"]:  # distributed: the sums without a count of right answers
        fill["total_loss, correct, seen"] = "total_loss, seen"
    return function_lines("main", "main", flags, {key: text for key, text in fill.items() if text})


def epochs_word(count: int) -> str:
    """'1 epoch', '3 epochs'."""
    return "epoch" if count == 1 else "epochs"
