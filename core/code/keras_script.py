"""The Keras 3 training script: what ``torchcanvas export -f keras`` writes.

It trains the network of ``core.code.keras_code`` with ``compile``/``fit`` on the data of the PyTorch script: the
same loaders and ``prepare`` from ``core.portable`` are pasted in word for word, so the split, the seed and the
normalisation are the same, and only the model, the optimizer and the loop are Keras'. Optimizer arguments are
set to PyTorch's defaults where Keras' differ (RMSprop's rho, Adam's epsilon, ...), so "the same optimizer"
means the same numbers. Settings Keras cannot reproduce are said in a comment at the top of ``main``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.code import script as torch_script
from core.code.imports import module_imports, used_imports
from core.code.keras_code import KerasCode, generate_keras_model
from core.code.line_wrap import call_lines, wrap
from core.code.script_data import data_lines, helper_constants, loader, prepare_helpers, quoted, source_lines
from core.code.script_loop import PLATEAU_PATIENCE, augments
from core.datasets import wants_tokens
from core.datasets.spec import SOURCES, DataSpec, parse_spec
from core.errors import DataError
from core.model.analysis import analyze
from core.settings import TrainingSettings

if TYPE_CHECKING:  # only a type here: code generation reads a project, files loads and saves it
    from core.files.project import Project

CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")
KERAS_LOSSES = {
    # PyTorch's CrossEntropyLoss takes raw scores (logits): from_logits=True says so to Keras.
    "CrossEntropyLoss": "keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
    # NLLLoss after LogSoftmax: log_softmax of log-probabilities changes nothing, so this is the same loss.
    "NLLLoss": "keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
    "BCEWithLogitsLoss": "keras.losses.BinaryCrossentropy(from_logits=True)",
    "MSELoss": "keras.losses.MeanSquaredError()",
    "L1Loss": "keras.losses.MeanAbsoluteError()",
    "SmoothL1Loss": "keras.losses.Huber(delta=1.0)",  # PyTorch's SmoothL1 with beta=1 is Huber with delta=1
}
# PyTorch's defaults where Keras' differ (Keras: RMSprop rho 0.9, epsilons 1e-7, Adagrad starts at 0.1).
OPTIMIZER_ARGS = {
    "SGD": [],
    "Adam": ["epsilon=1e-8"],
    "AdamW": ["epsilon=1e-8"],
    "RMSprop": ["rho=0.99", "epsilon=1e-8"],
    "Adadelta": ["rho=0.9", "epsilon=1e-6"],
    "Adagrad": ["initial_accumulator_value=0.0", "epsilon=1e-10"],
}


def optimizer_args(s: TrainingSettings, lr: str = "LEARNING_RATE", clip: str = "GRAD_CLIP") -> list[str]:
    """The arguments of ``keras.optimizers.X``, with PyTorch's defaults where Keras' differ."""
    args = [f"learning_rate={lr}", *OPTIMIZER_ARGS[s.optimizer]]
    if s.optimizer in ("SGD", "RMSprop") and s.momentum:
        args.append(f"momentum={s.momentum!r}")
    if s.optimizer == "SGD" and s.nesterov:
        args.append("nesterov=True")
    if s.weight_decay or s.optimizer == "AdamW":
        args.append(f"weight_decay={s.weight_decay!r}")
    if s.grad_clip:
        args.append(f"global_clipnorm={clip}")  # one norm over all weights, as clip_grad_norm_
    return args


def optimizer_call(s: TrainingSettings, lr: str = "LEARNING_RATE", clip: str = "GRAD_CLIP") -> str:
    """``keras.optimizers.X(...)`` for the settings, on one line."""
    return f"keras.optimizers.{s.optimizer}({', '.join(optimizer_args(s, lr, clip))})"


def metric_call(s: TrainingSettings) -> str:
    """The accuracy our runs report, as a Keras metric (class indices, or a threshold on one output)."""
    if s.loss in CLASS_LOSSES:
        return 'keras.metrics.SparseCategoricalAccuracy(name="accuracy")'
    threshold = "0.0" if s.loss == "BCEWithLogitsLoss" else "0.5"
    return f'keras.metrics.BinaryAccuracy(threshold={threshold}, name="accuracy")'


def compile_fit_lines(s: TrainingSettings) -> list[str]:
    """For the code view: ``compile_model`` with the project's loss, optimizer and metric, and how to fit."""
    compile_args = [f"optimizer={optimizer_call(s, repr(s.lr), repr(s.grad_clip))}", f"loss={KERAS_LOSSES[s.loss]}"]
    return [
        "def compile_model(model: keras.Model) -> keras.Model:",
        '    """The loss, optimizer and metric of the project\'s training settings."""',
        f"    # PyTorch: {s.loss}"
        + (" (takes raw scores: from_logits=True)" if "from_logits" in compile_args[1] else ""),
        *call_lines("    ", "model.compile", [*compile_args, f"metrics=[{metric_call(s)}]"]),
        "    return model",
        "",
        "",
        "# Training (File > Export > Keras script writes it all, with the project's data split):",
        "# model = compile_model(build_model())",
        f"# model.fit(x_train, y_train, batch_size={s.batch_size}, epochs={s.epochs}, validation_data=(x_val, y_val))",
    ]


def _optimizer_lines(s: TrainingSettings) -> list[str]:
    note = []
    if s.weight_decay and s.optimizer != "AdamW":
        note = ["    # Keras decays weights directly (as AdamW); PyTorch's weight_decay adds an L2 gradient term."]
    return [
        "def make_optimizer() -> keras.optimizers.Optimizer:",
        '    """The optimizer of the PyTorch script, with PyTorch\'s defaults where Keras\' differ."""',
        *note,
        *call_lines("    ", f"return keras.optimizers.{s.optimizer}", optimizer_args(s)),
    ]


def _schedule_lines(s: TrainingSettings) -> list[str]:
    """``learning_rate(epoch, lr)``, the schedule PyTorch's scheduler follows, for LearningRateScheduler."""
    if s.scheduler == "StepLR":
        rule = f"LEARNING_RATE * {s.gamma!r} ** (epoch // {s.step_size})"
    elif s.scheduler == "CosineAnnealingLR":
        rule = "LEARNING_RATE * (1 + math.cos(math.pi * epoch / EPOCHS)) / 2"
    else:
        return []
    return [
        "def learning_rate(epoch: int, lr: float) -> float:",
        f'    """The learning rate of each epoch (from 0), as PyTorch\'s {s.scheduler} sets it."""',
        f"    return {rule}",
    ]


def _callback_lines(s: TrainingSettings) -> tuple[list[str], list[str]]:
    """Lines building ``callbacks`` and comments for what Keras does not reproduce."""
    items: list[str] = []
    unsupported: list[str] = []
    if _schedule_lines(s):
        items.append("keras.callbacks.LearningRateScheduler(learning_rate)")
    elif s.scheduler == "ReduceLROnPlateau":
        args = f'monitor="{s.monitor}", factor={s.gamma!r}, patience={PLATEAU_PATIENCE}'
        items.append(f"keras.callbacks.ReduceLROnPlateau({args})")
    elif s.scheduler != "none":
        unsupported.append(f"{s.scheduler} (Keras has no such schedule: the learning rate stays constant)")
    if s.early_stopping:
        items.append(f'keras.callbacks.EarlyStopping(monitor="{s.monitor}", patience=PATIENCE)')
    if augments(s):
        unsupported.append("augmentation (flips, rotations, shifts, crops and colour jitter are not applied)")
    notes = [f"    # Not reproduced in Keras: {item}." for item in unsupported]
    if not items:
        return ["    callbacks = []"], notes
    lines = ["    callbacks = ["]
    for item in items:  # one per line (a trailing comma keeps ruff format from joining them)
        lines += wrap("        ", "", item, ",")
    return [*lines, "    ]"], notes


# The end of main: fit, test, and what a run leaves behind (the same for every project).
FIT_AND_SAVE = [
    "    validation = (x_val, y_val) if len(x_val) else None",
    "    start = time.perf_counter()",
    "    history = model.fit(",
    "        x_train,",
    "        y_train,",
    "        batch_size=BATCH_SIZE,",
    "        epochs=EPOCHS,",
    "        validation_data=validation,",
    "        callbacks=callbacks,",
    "        verbose=2,",
    "    )",
    "    seconds = time.perf_counter() - start",
    "    test_loss, test_accuracy = model.evaluate(",
    "        x_test, y_test, batch_size=EVAL_BATCH_SIZE, verbose=0",
    "    )",
    '    epochs = len(history.history["loss"])',
    "    result = {",
    '        "history": history.history,',
    '        "test_loss": test_loss,',
    '        "test_accuracy": test_accuracy,',
    '        "seconds": seconds,',
    '        "samples_per_second": len(x_train) * epochs / seconds,',
    "    }",
    "    print(",
    '        f"test accuracy {test_accuracy:.4f}, test loss {test_loss:.4f}, {seconds:.1f} s"',
    "    )",
    '    Path(HISTORY_FILE).write_text(json.dumps(result, indent=1), encoding="utf-8")',
    "    model.save_weights(WEIGHTS_FILE)",
]


def _main_lines(s: TrainingSettings) -> list[str]:
    """``main``; the settings Keras cannot reproduce are said at its top, where a reader starts."""
    callbacks, notes = _callback_lines(s)
    classes = s.loss in CLASS_LOSSES
    metric = metric_call(s)
    target = (
        []
        if classes
        else [
            "    y_train, y_val, y_test = (",
            "        targets(y, model.output_shape) for y in (y_train, y_val, y_test)",
            "    )",
        ]
    )
    return [
        "def main() -> None:",
        *notes,
        "    # Keras feeds the batches from a thread of its own: leave it a core, or both wait on each other.",
        "    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))",
        "    keras.utils.set_random_seed(SEED)",
        "    data = load_data()",
        '    x_train, y_train = data["x_train"].numpy(), data["y_train"].numpy()',
        '    x_val, y_val = data["x_val"].numpy(), data["y_val"].numpy()',
        '    x_test, y_test = data["x_test"].numpy(), data["y_test"].numpy()',
        "    model = build_model()",
        *target,
        *call_lines("    ", "model.compile", ["optimizer=make_optimizer()", "loss=LOSS", f"metrics=[{metric}]"]),
        *callbacks,
        *FIT_AND_SAVE,
    ]


TARGETS = [
    "def targets(y: np.ndarray, output_shape: tuple) -> np.ndarray:",
    '    """What the loss compares with, as in the PyTorch script: one-hot rows for class labels when',
    '    there is one output per class, else the labels as floats shaped like the outputs."""',
    "    if y.dtype == np.int64 and output_shape[-1] > 1:",
    '        return np.eye(output_shape[-1], dtype="float32")[y]',
    '    return y.astype("float32").reshape(len(y), *output_shape[1:])',
]


def generate_keras_script(project: Project) -> str:
    """The whole Keras training script; raises KerasExportError, CodegenError or DataError."""
    s = project.training
    code: KerasCode = generate_keras_model(project.graph, analyze(project.graph), project.name)
    shape = torch_script.input_shape_of(project)
    spec = parse_spec(s.dataset)
    helpers, files, load_lines = loader(spec, s, shape, _reads_tokens(project, spec))
    helpers = [*helpers, *prepare_helpers()]
    helper_text = "\n".join("\n".join(source_lines(h)) for h in helpers)
    constants = [*files, *_constant_lines(s, spec, shape)]
    model_lines = code.source.splitlines()
    first_def = model_lines.index("def build_model() -> keras.Model:")
    lines = [
        *helper_constants(constants, helper_text),
        "",
        "",
        *model_lines[first_def:],
        *data_lines(helpers, load_lines),
        "",
        "",
        *_optimizer_lines(s),
        "",
        "",
    ]
    if s.loss not in CLASS_LOSSES:
        lines += [*TARGETS, "", ""]
    if _schedule_lines(s):
        lines += [*_schedule_lines(s), "", ""]
    lines += [*_main_lines(s), "", "", 'if __name__ == "__main__":', "    main()"]
    body = "\n".join(lines) + "\n"
    imports = used_imports([*OWN_IMPORTS, *module_imports(helpers)], body, skip=frozenset({"os"}))
    return "\n".join([*_preamble_lines(project.name), *imports, ""]) + "\n" + body


def _reads_tokens(project: Project, spec: DataSpec) -> bool:
    """Whether the data are token ids. An Input whose dtype does not fit the data is training's error to report;
    the script, like the PyTorch one, then reads the data as the source gives them."""
    try:
        return wants_tokens(spec, torch_script.input_dtype_of(project))
    except DataError:
        return SOURCES[spec.kind].tokens == "always"


def _constant_lines(s: TrainingSettings, spec: DataSpec, shape: tuple[int, ...]) -> list[str]:
    """The settings as the PyTorch script names them, so the two scripts read side by side; the optional ones
    only when they are used."""
    constants = [
        f"SEED = {s.seed}",
        f"EPOCHS = {s.epochs}",
        f"BATCH_SIZE = {s.batch_size}",
        f"EVAL_BATCH_SIZE = {torch_script.eval_batch_size(s)}",
        f"LEARNING_RATE = {s.lr!r}",
        f"VAL_FRACTION = {s.val_fraction!r}",
        f"TEST_FRACTION = {s.test_fraction!r}",
        f"NORMALIZE = {s.normalization()!r}",  # True, False or pretrained weights' (mean, std)
        f"INPUT_SHAPE = {tuple(shape)!r}  # one sample, without the batch dimension",
        f"# PyTorch: {s.loss}",
        f"LOSS = {KERAS_LOSSES[s.loss]}",
    ]
    if s.resize and not SOURCES[spec.kind].sizes_itself:
        constants.append(f"IMAGE_SIZE = {tuple(s.resize)!r}")
    if s.grad_clip:
        constants.append(f"GRAD_CLIP = {s.grad_clip!r}")
    if s.early_stopping:
        constants.append(f"PATIENCE = {s.early_stopping}")
    return [*constants, 'HISTORY_FILE = "keras_history.json"', 'WEIGHTS_FILE = "keras_model.weights.h5"']


def _preamble_lines(name: str) -> list[str]:
    """The docstring and the backend, chosen before keras is imported, or keras would pick its own."""
    title = name if name.isprintable() else "a project"
    return [
        f'"""Keras 3 training script generated by TorchCanvas for {quoted(title)[1:-1]}.',
        "",
        "The same network, data split and settings as the PyTorch script, trained with compile/fit.",
        "Run it with `python this_file.py` (pip install keras; it uses the torch backend, no TensorFlow).",
        '"""',
        "",
        "import os",
        "",
        'os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported',
        "",
    ]


# What the script's own lines use; the pasted helpers bring the imports of the modules they come from.
OWN_IMPORTS = (
    "import json",
    "import math",
    "import time",
    "from pathlib import Path",
    "import keras",
    "import numpy as np",
    "import torch",
    "from keras import layers",
)
