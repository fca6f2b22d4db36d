"""The names a generated script binds itself and the templates beside this module read:
its constants and the functions the generator writes for each project. Declared here,
with example values, so the templates lint and type-check as they will run in the
script; nothing of this module is ever written into a script."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

LEARNING_RATE = 1e-3
UNFREEZE_LR_FACTOR = 0.1  # phase two's learning rate, times LEARNING_RATE
FROZEN: list[str] = []  # the attributes of the Net whose weights are frozen
LOSS = "CrossEntropyLoss"
GRAD_CLIP = 1.0  # largest allowed gradient norm
AUGMENT: tuple = ()  # a placeholder: filled with augment's arguments after the batch
# make_optimizer's and make_scheduler's placeholders: the settings' classes and numbers
OPTIMIZER: Any = torch.optim.Adam
LR = LEARNING_RATE  # lr in two phases: the argument
MOMENTUM = 0.9
WEIGHT_DECAY = 0.0
SCHEDULER: Any = torch.optim.lr_scheduler.StepLR
STEP_SIZE = 10
GAMMA = 0.1
MODE = "min"
PLATEAU_PATIENCE = 3
RETURNS = int  # a placeholder: end_of_epoch's epochs since the best, or None without early stopping
EPOCH_RESULT = tuple  # a placeholder: train_one_epoch's dict, or its sums' tuple


def make_optimizer(
    model: nn.Module, lr: float = LEARNING_RATE
) -> torch.optim.Optimizer:
    """Written per project by ``core.code.script_loop``."""
    return torch.optim.Adam(model.parameters(), lr=lr)


# The constants of the main function; placeholders the generator fills in.
SEED = 0
EPOCHS = 10
BATCH_SIZE = 32
EVAL_BATCH_SIZE = 256
FREEZE_EPOCHS = 2
PATIENCE = 3
DATA_FILE = "data.npz"
INITIAL_WEIGHTS = "weights.pt"
LOSS_FN = nn.CrossEntropyLoss  # a placeholder: the loss's class
TORCHVISION_WEIGHTS: Any = None  # a placeholder: the weights enum's member

# load_data's constants (core.code.templates.data) and its placeholders.
DATA_DIR = "data"
VAL_FRACTION = 0.1
TEST_FRACTION = 0.1
INPUT_SHAPE = (1, 28, 28)
NORMALIZE: Any = True  # "auto", a bool or a pretrained network's (mean, std)
IMAGE_SIZE = (28, 28)
WORKERS = 4  # a big image folder's DataLoader processes (core.code.script_data)
# torchvision.datasets, which the script imports; its DATASET is a placeholder
datasets: Any = None
# core.portable.lean's split, pasted: mypy counts a list's items as too many for it
split: Any = None
RAW: Any = None  # a placeholder: the source's lines that read the data into raw
LOAD: Any = None  # a placeholder: the call that reads a source's five arrays


def Net() -> Any:
    """The project's network, written per project by ``core.code.codegen``. Any: main
    puts it in DDP and back (``model.module``, which torch types Tensor | Module)."""
    return nn.Linear(1, 1)


def load_data() -> list:
    """Written per project by ``core.code.script_data``."""
    return []


# Written per project by ``core.code.script_loop`` and pasted from ``core.portable``:
# their arguments change with the settings, so they are taken as they come here.
make_scheduler: Any = None
train_one_epoch: Any = None
evaluate: Any = None
end_of_epoch: Any = None
