"""Transfer learning's functions in the exported script, those a project uses picked by
``core.code.script_transfer``: earlier weights loaded by name, frozen parts, frozen
BatchNorm layers kept in eval mode, phase two.

Flags of ``start_from_file``: ``imported`` (the imported network's own weights, which
the app skips with a notice when they are missing), ``frozen`` (FROZEN has layers: a
missing file stops the script, whose frozen layers would otherwise keep random values),
``safetensors`` (the file's kind)."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from core.code.templates.script_names import (
    FROZEN,
    INITIAL_WEIGHTS,
    LEARNING_RATE,
    UNFREEZE_LR_FACTOR,
    make_optimizer,
)


def start_from(model: nn.Module, state: dict) -> tuple:
    """Earlier weights (a pretrained network's) into the model, matched by name; a
    tensor of another shape (a new head for other classes) stays new. Returns the
    names loaded and the names left new."""
    own = model.state_dict()
    fits = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    model.load_state_dict(fits, strict=False)
    return list(fits), [k for k in own if k not in fits]


def start_from_file(model: nn.Module) -> None:
    """start_from with the INITIAL_WEIGHTS file, looked for beside this script (not in
    the folder it is run from), as the app starts its run."""
    # a notebook has no __file__: it runs in its own folder
    here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
    path = here / INITIAL_WEIGHTS  # a full path stays itself
    if not path.is_file():  # [imported !frozen]
        print(
            f"The initial weights {INITIAL_WEIGHTS} are not beside this script: this "
            "run starts from fresh random weights (as the app does)."
        )
        return
    if not path.is_file():  # [imported frozen]
        raise SystemExit(
            f"Cannot fine-tune: the initial weights {path} are missing, so the layers "
            "in FROZEN would keep random values; put the file there (exporting the "
            "script again writes it beside the script)."
        )
    if not path.is_file():  # [!imported]
        raise SystemExit(
            f"Cannot start from the initial weights: there is no file {path}. Put it "
            "there, or set INITIAL_WEIGHTS to the file's path."
        )
    try:
        state = load_file(path)  # [safetensors]
        state = torch.load(path, weights_only=True)  # [!safetensors]
    except Exception as exc:  # cut short, or not weights: a sentence, no traceback
        raise SystemExit(
            f"Cannot start from the initial weights: {path} is damaged or not a "
            "weights file. Export the script again, or set INITIAL_WEIGHTS to "
            "a good file."
        ) from exc
    loaded, new = start_from(model, state)
    shown = ", ".join(new[:6]) + (f" and {len(new) - 6} more" if len(new) > 6 else "")
    print(
        f"From {path.name}: {len(loaded)} tensors loaded, {len(new)} new"
        + (f" ({shown})" if new else "")
    )


def freeze(model: nn.Module) -> None:
    """Trainable off (Keras' layer.trainable = False): the FROZEN parts get no
    gradients, so the optimizer never changes their weights."""
    for name in FROZEN:
        model.get_submodule(name).requires_grad_(False)


def keep_frozen_norms_in_eval(model: nn.Module) -> None:
    """Called after model.train(). A frozen BatchNorm stays in eval mode: it uses and
    keeps the statistics it learnt, as Keras does for trainable = False. Batches of a
    small dataset would otherwise replace them, and the features the frozen layers
    compute would change under the new head: fine-tuning would wreck them."""
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    for module in model.modules():
        weight = module.weight if isinstance(module, norms) else None
        if weight is not None and not weight.requires_grad:  # a frozen BatchNorm
            module.eval()


def unfreeze(model: nn.Module) -> torch.optim.Optimizer:
    """Phase two of fine-tuning (fastai's fine_tune): every layer trains now, more
    gently: a new optimizer over all the weights at a lower learning rate."""
    model.requires_grad_(True)
    return make_optimizer(model, LEARNING_RATE * UNFREEZE_LR_FACTOR)
