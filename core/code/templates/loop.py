"""The training loop of the exported script, which the app runs too
(``core.code.script_loop`` picks the lines of a project's settings: tags in brackets).

``make_optimizer`` and ``make_scheduler`` take the settings' classes and numbers
(``OPTIMIZER``, ``LR``, ``SCHEDULER``, ...: placeholders); their flags: ``frozen``
parts, two ``phases``, ``momentum`` (for OneCycleLR: the optimizer has one, which it
cycles: ``CYCLED_MOMENTUM`` says what), ``nesterov``, weight ``decay``, and the
schedule (``step``, ``cosine``, ``onecycle``: the only one that needs
``steps_per_epoch``, ``plateau``); ``span``: two phases and a schedule over a number of
epochs, made once per phase over that phase's ``epochs`` (``EPOCHS`` becomes them), up
to the rate its optimizer starts at (``LEARNING_RATE`` becomes it).
Flags of the loop: ``amp`` mixed precision, ``clip`` gradient clipping, ``onecycle`` a schedule
stepped every batch, ``classes`` a class loss, ``regression`` numbers to predict (no
accuracy: ``evaluate`` gives the loss, ``regression_figures`` the test's MAE, RMSE and
R²), ``augment``, ``norms`` frozen BatchNorm
layers, ``dist`` distributed (the sums are added up over the processes first).
``end_of_epoch`` exists only where it decides something (``main`` steps StepLR and
CosineAnnealingLR itself): ``plateau`` ReduceLROnPlateau, which reads the score,
``stops`` early stopping, ``val`` a validation score watched (the training one is its
``FALLBACK``). Placeholders: the monitored ``MONITOR``, ``RETURNS`` (int or None);
``max`` becomes min for a loss; ``EPOCH_RESULT``: what ``train_one_epoch`` returns (a
dict, or the sums when distributed).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core.code.templates.script_names import (
    AUGMENT,
    EPOCH_RESULT,
    EPOCHS,
    GAMMA,
    GRAD_CLIP,
    LEARNING_RATE,
    LOSS,
    LR,
    MODE,
    MOMENTUM,
    OPTIMIZER,
    PLATEAU_PATIENCE,
    RETURNS,
    SCHEDULER,
    STEP_SIZE,
    WEIGHT_DECAY,
)
from core.code.templates.transfer import keep_frozen_norms_in_eval
from core.portable.steps import augment, classes_of, to_target


def make_optimizer(
    model: nn.Module,
    lr: float = LEARNING_RATE,  # [phases]
) -> torch.optim.Optimizer:
    """What changes the weights after each batch, and how fast."""  # [!frozen]
    # [frozen]
    """What changes the trainable weights after each batch, and how fast."""
    trainable = [p for p in model.parameters() if p.requires_grad]  # [frozen]
    return OPTIMIZER(
        trainable,  # [frozen]
        model.parameters(),  # [!frozen]
        lr=LR,
        momentum=MOMENTUM,  # [momentum]
        nesterov=True,  # [nesterov]
        weight_decay=WEIGHT_DECAY,  # [decay]
    )


def make_scheduler(
    optimizer: torch.optim.Optimizer,
    steps_per_epoch: int,  # [onecycle]
    epochs: int,  # [span]
):
    """How the learning rate changes during training."""  # [!span]
    # [span]
    """How the learning rate changes during one phase of training, over its epochs."""
    # [onecycle momentum]
    # OneCycleLR also cycles CYCLED_MOMENTUM
    return SCHEDULER(
        optimizer,
        step_size=STEP_SIZE,  # [step]
        gamma=GAMMA,  # [step]
        T_max=EPOCHS,  # [cosine]
        max_lr=LEARNING_RATE,  # [onecycle]
        total_steps=EPOCHS * steps_per_epoch,  # [onecycle]
        cycle_momentum=False,  # [onecycle !momentum]
        mode=MODE,  # [plateau]
        factor=GAMMA,  # [plateau]
        patience=PLATEAU_PATIENCE,  # [plateau]
    )


def train_one_epoch(
    model,
    batches,
    loss_fn,
    optimizer,
    scaler,  # [amp]
    scheduler,  # [onecycle]
    on_batch=None,
) -> EPOCH_RESULT:
    """One pass over the training batches; on_batch, if given, sees each one."""
    model.train()
    keep_frozen_norms_in_eval(model)  # [norms]
    # [!regression]
    total_loss, correct, seen = 0.0, 0, 0  # correct becomes a tensor, read at the end
    total_loss, seen = 0.0, 0  # [regression]
    for inputs, labels in batches:
        inputs = augment(inputs, *AUGMENT)  # [augment]
        with torch.autocast(inputs.device.type, enabled=scaler.is_enabled()):  # [amp]
            outputs = model(inputs)
            loss = loss_fn(outputs, labels)  # [classes]
            # [!classes !regression]
            loss = loss_fn(outputs, to_target(outputs, labels, LOSS))
            loss = loss_fn(outputs, labels.view_as(outputs))  # [regression]
        outputs = model(inputs)  # [!amp]
        loss = loss_fn(outputs, labels)  # [!amp classes]
        # [!amp !classes !regression]
        loss = loss_fn(outputs, to_target(outputs, labels, LOSS))
        loss = loss_fn(outputs, labels.view_as(outputs))  # [!amp regression]
        optimizer.zero_grad()
        scaler.scale(loss).backward()  # [amp]
        loss.backward()  # [!amp]
        scaler.unscale_(optimizer)  # [amp clip]
        nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)  # [clip]
        scaler.step(optimizer)  # [amp]
        scaler.update()  # [amp]
        optimizer.step()  # [!amp]
        scheduler.step()  # [onecycle]
        total_loss += loss.item() * len(labels)
        correct += (outputs.argmax(1) == labels).sum()  # [classes]
        correct += (classes_of(outputs, LOSS) == labels).sum()  # [!classes !regression]
        seen += len(labels)
        if on_batch is not None:
            on_batch(outputs, labels, loss.item())
        if not torch.isfinite(loss):  # nan or inf: no later step can recover
            raise SystemExit(f"The loss became {loss.item()}: lower LEARNING_RATE.")
    return total_loss, int(correct), seen  # [dist !regression]
    return total_loss, seen  # [dist regression]
    # [!dist !regression]
    return {"loss": total_loss / seen, "accuracy": int(correct) / seen}
    return {"loss": total_loss / seen}  # [!dist regression]


@torch.no_grad()
def evaluate(model: nn.Module, x, y, loss_fn: nn.Module, batch_size: int) -> float:
    """Mean loss over a whole split, in eval mode (no dropout), of numbers to predict
    (``regression_figures`` gives the test split's MAE, RMSE and R²)."""
    model.eval()
    total = 0.0
    for inputs, targets in zip(x.split(batch_size), y.split(batch_size)):
        outputs = model(inputs)
        total += loss_fn(outputs, targets.view_as(outputs)).item() * len(targets)
    return total / len(x) if len(x) else float("nan")  # no samples


def regression_figures(model: nn.Module, x, y, batch_size: int) -> str:
    """MAE, RMSE and R² over a split: how the app judges numeric targets."""
    model.eval()
    with torch.no_grad():
        outputs = [model(inputs) for inputs in x.split(batch_size)]
    true = y.double().reshape(len(y), -1)
    diff = torch.cat(outputs).double().reshape(len(y), -1) - true
    mae, rmse = diff.abs().mean().item(), diff.pow(2).mean().sqrt().item()
    total = ((true - true.mean(0)) ** 2).sum().item()
    r2 = f"{1 - diff.pow(2).sum().item() / total:.4f}" if total > 0 else "–"
    return f"Test MAE {mae:.4f} - RMSE {rmse:.4f} - R² {r2} ({len(y):,} samples)"


def end_of_epoch(
    history: list,
    scheduler,  # [plateau]
) -> RETURNS:
    # [plateau stops]
    """After validation: the learning rate lowered when MONITOR stalls, and for early
    stopping the epochs since the best MONITOR so far (0: this one)."""
    # [!plateau stops]
    """After validation, for early stopping: the epochs since the best MONITOR so far
    (0: this one)."""
    """After validation: the learning rate lowered when MONITOR stalls."""  # [!stops]
    scores = [row["MONITOR"] for row in history]
    # [val]
    if math.isnan(scores[-1]):  # no validation data: watch the training FALLBACK
        scores = [row["FALLBACK"] for row in history]
    scheduler.step(scores[-1])  # [plateau]
    # [stops]
    best = scores.index(max(scores))  # the first epoch with it: a tie is no improvement
    return len(scores) - 1 - best  # [stops]
