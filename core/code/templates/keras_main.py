"""The Keras script's own functions (``core.code.keras_script`` picks the lines of a
project's settings): the optimizer with PyTorch's defaults where Keras' differ, the
targets of a loss that is not a class loss, the learning rate of a schedule, and
``main``, which compiles, fits, tests and saves. The code view shows the network with
``make_optimizer`` and ``compile_model``, the compile step on its own. The data half is
the PyTorch script's (``core.code.script_data``).

``keras`` is imported for the type checker only: importing it picks a backend, and
the templates are read as text, never run.

Flags of ``make_optimizer``: PyTorch's defaults Keras lacks (``rho``, ``adagrad``,
``epsilon``), ``momentum``, ``nesterov``, weight ``decay`` (``l2``: PyTorch adds it to
the gradient), ``clip``. ``learning_rate``: ``step`` or ``cosine``.
``main``: ``small`` one CPU thread, as the PyTorch script (``core.code.script_loop``
``single_thread``), ``classes`` a class loss, ``regression`` numbers to predict
(``metrics=["mae"]``: no accuracy), ``npz`` the short ``.npz`` loader, ``vocab`` a
text's vocabulary, saved beside the weights as the PyTorch script saves it, the
callbacks (``callbacks``: any of ``schedule``, ``plateau``, ``stops``) and what Keras
does not reproduce (``unmatched`` schedule, ``augment``); ``stream`` an image folder
too big for memory: a Dataset per split, read through DataLoaders as in the PyTorch
script (``core.portable.image_stream``), whose labels ``target_batch`` turns into
``targets`` batch by batch where the loss is not a class loss. Placeholders: ``VALIDATION``
(the validation split, None when it may be empty: ``VAL_FRACTION = 0``),
``TRAINING_SAMPLES`` (how many: ``len(x_train)``, or the streamed ``len(train_set)``),
``OPTIMIZER``, ``RHO``, ``EPSILON``, ``MOMENTUM``, ``WEIGHT_DECAY``, ``GAMMA``,
``STEP_SIZE``, ``SCHEDULER``, ``METRIC``, ``MONITOR``, ``*PLATEAU`` and, in a comment,
``TORCH_LOSS`` (the PyTorch loss's name, and why ``from_logits=True`` where it is set).
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import BadZipFile

import numpy as np
import torch
from torch.utils.data import DataLoader, default_collate

from core.code.templates.keras_names import (
    EPSILON,
    HISTORY_FILE,
    LOSS,
    METRIC,
    MONITOR,
    PLATEAU,
    RHO,
    TRAINING_SAMPLES,
    VALIDATION,
    WEIGHTS_FILE,
    build_model,
)
from core.code.templates.script_names import (
    BATCH_SIZE,
    DATA_FILE,
    EPOCHS,
    EVAL_BATCH_SIZE,
    GAMMA,
    GRAD_CLIP,
    LEARNING_RATE,
    MOMENTUM,
    PATIENCE,
    SEED,
    STEP_SIZE,
    WEIGHT_DECAY,
    WORKERS,
    load_data,
)

if TYPE_CHECKING:
    import keras


def make_optimizer() -> keras.optimizers.Optimizer:
    """The optimizer of the PyTorch script, with PyTorch's defaults where Keras' differ."""
    # [l2]
    # Keras decays weights directly (as AdamW); PyTorch's weight_decay adds an L2 gradient term.
    return keras.optimizers.OPTIMIZER(
        learning_rate=LEARNING_RATE,
        rho=RHO,  # [rho]
        initial_accumulator_value=0.0,  # [adagrad]
        epsilon=EPSILON,  # [epsilon]
        momentum=MOMENTUM,  # [momentum]
        nesterov=True,  # [nesterov]
        weight_decay=WEIGHT_DECAY,  # [decay]
        global_clipnorm=GRAD_CLIP,  # [clip]
    )


def compile_model(model: keras.Model) -> keras.Model:
    """The loss, optimizer and metric of the project's training settings."""
    # PyTorch: TORCH_LOSS
    model.compile(
        optimizer=make_optimizer(),
        loss=LOSS,
        metrics=[METRIC],
    )
    return model


def targets(y: np.ndarray, output_shape: tuple) -> np.ndarray:
    """What the loss compares with, as in the PyTorch script: one-hot rows for class labels when
    there is one output per class, else the labels as floats shaped like the outputs."""
    if y.dtype == np.int64 and output_shape[-1] > 1:
        return np.eye(output_shape[-1], dtype="float32")[y]
    return y.astype("float32").reshape(len(y), *output_shape[1:])


def target_batch(samples: list, output_shape: tuple) -> tuple:
    """A batch of pictures and what the loss compares with (``targets``), made as the
    DataLoader gathers the batch: the folder is read batch by batch."""
    x, y = default_collate(samples)
    return x, torch.from_numpy(targets(y.numpy(), output_shape))


def learning_rate(epoch: int, lr: float) -> float:
    """The learning rate of each epoch (from 0), as PyTorch's SCHEDULER sets it."""
    return LEARNING_RATE * GAMMA ** (epoch // STEP_SIZE)  # [step]
    return LEARNING_RATE * (1 + math.cos(math.pi * epoch / EPOCHS)) / 2  # [cosine]


def main() -> None:
    # [unmatched]
    # Not reproduced in Keras: SCHEDULER (Keras has no such schedule: the learning rate
    # [unmatched]
    # stays constant).
    # [augment]
    # Not reproduced in Keras: augmentation (flips, rotations, shifts, crops and colour jitter
    # [augment]
    # are not applied).
    # [small]
    torch.set_num_threads(1)  # few multiply-adds a batch: one thread is fastest
    keras.utils.set_random_seed(SEED)
    try:  # [npz]
        data = load_data()  # split by torch: the same split as the PyTorch script
    except (OSError, EOFError, KeyError, TypeError, ValueError, BadZipFile) as error:
        raise SystemExit(f"Cannot load {DATA_FILE}: {error}") from None
    try:  # [!npz]
        # [!vocab]
        data = load_data()  # split by torch: the same split as the PyTorch script
        # [vocab]
        *data, vocab = load_data()  # split as the PyTorch script does; the vocabulary
    except (OSError, KeyError, ValueError) as error:
        raise SystemExit(f"Cannot load the data: {error}") from None
    # [!stream]
    x_train, y_train, x_val, y_val, x_test, y_test = [t.numpy() for t in data]
    # [stream]
    train_set, val_set, test_set = data  # Datasets: pictures read when needed
    model = build_model()
    y_train, y_val, y_test = (  # [!classes !regression !stream]
        targets(y, model.output_shape) for y in (y_train, y_val, y_test)
    )
    # the labels as the loss wants them, batch by batch  # [stream !classes]
    # [stream !classes]
    collate = functools.partial(target_batch, output_shape=model.output_shape)
    # [stream]
    train_loader = DataLoader(
        train_set,
        batch_size=BATCH_SIZE,
        shuffle=True,  # a new order every epoch, drawn from SEED
        generator=torch.Generator().manual_seed(SEED),
        num_workers=WORKERS,
        collate_fn=collate,  # [!classes]
    )
    val_loader, test_loader = (  # [stream]
        DataLoader(
            part,
            EVAL_BATCH_SIZE,
            num_workers=WORKERS,
            collate_fn=collate,  # [!classes]
        )
        for part in (val_set, test_set)
    )
    model.compile(
        optimizer=make_optimizer(),
        loss=LOSS,
        metrics=[METRIC],
    )
    stop_early = keras.callbacks.EarlyStopping(  # [stops]
        monitor=MONITOR, patience=PATIENCE, restore_best_weights=True
    )
    callbacks = [  # [callbacks]
        keras.callbacks.LearningRateScheduler(learning_rate),  # [schedule]
        keras.callbacks.ReduceLROnPlateau(*PLATEAU),  # [plateau]
        stop_early,  # [stops]
    ]
    start = time.perf_counter()
    history = model.fit(
        train_loader,  # [stream]
        x_train,  # [!stream]
        y_train,  # [!stream]
        batch_size=BATCH_SIZE,  # [!stream]
        shuffle=False,  # train_loader shuffles  # [stream]
        epochs=EPOCHS,
        validation_data=VALIDATION,
        callbacks=callbacks,  # [callbacks]
        verbose=2,
    )
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(  # [!regression !stream]
        x_test, y_test, batch_size=EVAL_BATCH_SIZE, verbose=0
    )
    test_loss, test_accuracy = model.evaluate(test_loader, verbose=0)  # [stream]
    test_loss, test_mae = model.evaluate(  # [regression]
        x_test, y_test, batch_size=EVAL_BATCH_SIZE, verbose=0
    )
    epochs = len(history.history["loss"])
    result = {
        "history": history.history,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,  # [!regression]
        "test_mae": test_mae,  # [regression]
        "seconds": seconds,
        "samples_per_second": TRAINING_SAMPLES * epochs / seconds,
    }
    print(  # [!regression]
        f"test accuracy {test_accuracy:.4f}, test loss {test_loss:.4f}, {seconds:.1f} s"
    )
    # [regression]
    print(f"test MAE {test_mae:.4f}, test loss {test_loss:.4f}, {seconds:.1f} s")
    Path(HISTORY_FILE).write_text(json.dumps(result, indent=1), encoding="utf-8")
    model.save_weights(WEIGHTS_FILE)
    # what a new text needs beside the weights: its token ids, the class names  # [vocab]
    # [vocab]
    Path("vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
