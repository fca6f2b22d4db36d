"""The names a generated script binds itself and the templates beside this module read:
its constants and the functions the generator writes for each project. Declared here,
with example values, so the templates lint and type-check as they will run in the
script; nothing of this module is ever written into a script."""

from __future__ import annotations

import torch
from torch import nn

LEARNING_RATE = 1e-3
UNFREEZE_LR_FACTOR = 0.1  # phase two's learning rate, times LEARNING_RATE
FROZEN: list[str] = []  # the attributes of the Net whose weights are frozen
LOSS = "CrossEntropyLoss"
GRAD_CLIP = 1.0  # largest allowed gradient norm
AUGMENT: tuple = ()  # a placeholder: filled with augment's arguments after the batch


def make_optimizer(
    model: nn.Module, lr: float = LEARNING_RATE
) -> torch.optim.Optimizer:
    """Written per project by ``core.code.script_loop``."""
    return torch.optim.Adam(model.parameters(), lr=lr)
