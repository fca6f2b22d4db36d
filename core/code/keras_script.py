"""The Keras 3 training script: what ``torchcanvas export -f keras`` writes.

It trains the network of ``core.code.keras_code`` with ``compile``/``fit`` on the data of the PyTorch script: its
data half (``core.code.script_data``: the loaders, ``prepare`` with only the steps this data takes, the short loader
of grey images, ``load_data``) is the PyTorch script's word for word, so the split, the seed and the normalisation
are the same, and only the model, the optimizer and the loop are Keras'. The fixed text of ``make_optimizer``,
``targets``, ``learning_rate`` and ``main`` is ``core/code/templates/keras_main.py``, read as the PyTorch script's
templates are: this module says which of their tagged lines a project keeps. Optimizer arguments are set to
PyTorch's defaults where Keras' differ (RMSprop's rho, Adam's epsilon, ...), so "the same optimizer" means the same
numbers. Settings Keras cannot reproduce are said in a comment at the top of ``main``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.code import script as torch_script
from core.code.imports import module_imports, used_imports, used_names
from core.code.keras_code import KerasCode, generate_keras_model
from core.code.script_data import (
    data_half,
    embedding_rows,
    helper_constants,
    quoted,
    saves_vocab,
    script_data_lines,
)
from core.code.script_loop import augments, plateau_constant, regresses, single_thread
from core.code.templates import function_lines
from core.datasets.spec import SOURCES, DataSpec, parse_spec
from core.model.analysis import analyze
from core.model.compute import multiply_adds
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
PYTORCH_DEFAULTS = {
    "SGD": {},
    "Adam": {"epsilon": "1e-8"},
    "AdamW": {"epsilon": "1e-8"},
    "RMSprop": {"rho": "0.99", "epsilon": "1e-8"},
    "Adadelta": {"rho": "0.9", "epsilon": "1e-6"},
    "Adagrad": {"initial_accumulator_value": "0.0", "epsilon": "1e-10"},
}
SCHEDULES = {"StepLR": "step", "CosineAnnealingLR": "cosine"}  # those learning_rate(epoch) follows


def loss_words(s: TrainingSettings) -> str:
    """The PyTorch loss the Keras loss stands for, said beside it: ``from_logits=True`` where the loss takes raw
    scores, and for NLLLoss why the same words are right on log_softmax outputs (it reads as a mismatch
    otherwise)."""
    if s.loss == "NLLLoss":
        return "NLLLoss of log_softmax; softmax(log p) = p, so from_logits=True is exact"
    if "from_logits=True" in KERAS_LOSSES[s.loss]:
        return f"{s.loss} (takes raw scores: from_logits=True)"
    return s.loss


def metric_call(s: TrainingSettings) -> str:
    """The accuracy our runs report, as a Keras metric (class indices, or a threshold on one output); numbers to
    predict have none: their mean absolute error, as a Keras author writes it."""
    if regresses(s):
        return '"mae"'
    if s.loss in CLASS_LOSSES:
        return 'keras.metrics.SparseCategoricalAccuracy(name="accuracy")'
    threshold = "0.0" if s.loss == "BCEWithLogitsLoss" else "0.5"
    return f'keras.metrics.BinaryAccuracy(threshold={threshold}, name="accuracy")'


def optimizer_lines(s: TrainingSettings, values: bool = False) -> list[str]:
    """``make_optimizer``: the PyTorch script's optimizer, with PyTorch's defaults where Keras' differ (values:
    the learning rate and clipping norm as numbers, for the code view, which has no constants)."""
    defaults = PYTORCH_DEFAULTS[s.optimizer]
    flags = {
        "rho": "rho" in defaults,
        "adagrad": "initial_accumulator_value" in defaults,
        "epsilon": "epsilon" in defaults,
        "momentum": s.optimizer in ("SGD", "RMSprop") and bool(s.momentum),
        "nesterov": s.optimizer == "SGD" and s.nesterov,
        "decay": bool(s.weight_decay or s.optimizer == "AdamW"),
        "l2": bool(s.weight_decay and s.optimizer != "AdamW"),  # Keras decays as AdamW does
        "clip": bool(s.grad_clip),  # one norm over all weights, as clip_grad_norm_
    }
    fill = {
        "OPTIMIZER": s.optimizer,
        **{name.upper(): defaults[name] for name in ("rho", "epsilon") if name in defaults},
        "MOMENTUM": repr(s.momentum),
        "WEIGHT_DECAY": repr(s.weight_decay),
        **({"LEARNING_RATE": repr(s.lr), "GRAD_CLIP": repr(s.grad_clip)} if values else {}),
    }
    return function_lines("keras_main", "make_optimizer", flags, fill)


def compile_fit_lines(s: TrainingSettings) -> list[str]:
    """For the code view: ``make_optimizer`` and ``compile_model`` with the project's loss and metric, and how to
    fit."""
    loss = KERAS_LOSSES[s.loss]
    fill = {"TORCH_LOSS": loss_words(s), "LOSS": loss, "METRIC": metric_call(s)}
    return [
        *optimizer_lines(s, values=True),
        "",
        "",
        *function_lines("keras_main", "compile_model", {}, fill),
        "",
        "",
        "# Training (File > Export > Keras script writes it all, with the project's data split):",
        "# model = compile_model(build_model())",
        f"# model.fit(x_train, y_train, batch_size={s.batch_size}, epochs={s.epochs}, validation_data=(x_val, y_val))",
    ]


def keras_functions(
    s: TrainingSettings, npz: bool, small: bool = False, vocab: bool = False, stream: bool = False
) -> list[str]:
    """``make_optimizer``, ``targets`` (a loss that is not a class loss), ``learning_rate`` (a schedule Keras
    follows epoch by epoch) and ``main``, from ``core/code/templates/keras_main.py``; the settings Keras cannot
    reproduce are said at the top of ``main``, where a reader starts (npz: the short ``.npz`` loader, whose errors
    name the file; small: one CPU thread, as the PyTorch script decides it, so the two train alike; vocab: a text's
    ``load_data`` gives its vocabulary after the splits, saved as vocab.json beside the weights; stream: an image
    folder too big for memory, a Dataset per split that ``fit`` and ``evaluate`` read through DataLoaders, as the
    PyTorch script does, with ``target_batch`` making each batch's targets where the loss is not a class loss)."""
    classes, regression = s.loss in CLASS_LOSSES, regresses(s)
    schedule = SCHEDULES.get(s.scheduler)
    lines = optimizer_lines(s)
    if not classes and not regression:  # Keras compares numbers with the outputs itself
        lines += ["", "", *function_lines("keras_main", "targets", {})]
        if stream:  # the folder's labels, batch by batch
            lines += ["", "", *function_lines("keras_main", "target_batch", {})]
    if schedule:
        flags = {"step": schedule == "step", "cosine": schedule == "cosine"}
        fill = {"SCHEDULER": s.scheduler, "GAMMA": repr(s.gamma), "STEP_SIZE": str(s.step_size)}
        lines += ["", "", *function_lines("keras_main", "learning_rate", flags, fill)]
    flags = {
        "unmatched": s.scheduler not in (*SCHEDULES, "ReduceLROnPlateau", "none"),
        "augment": bool(augments(s)),
        "small": small,
        "npz": npz,
        "vocab": vocab,
        "classes": classes,
        "regression": regression,
        "callbacks": bool(schedule) or s.scheduler == "ReduceLROnPlateau" or bool(s.early_stopping),
        "schedule": bool(schedule),
        "plateau": s.scheduler == "ReduceLROnPlateau",
        "stops": bool(s.early_stopping),
        "stream": stream,
    }
    plateau = f'monitor="{s.monitor}", factor={s.gamma!r}, patience=PLATEAU_PATIENCE + 1'
    fill = {
        "SCHEDULER": s.scheduler,
        "METRIC": metric_call(s),
        "MONITOR": f'"{s.monitor}"',
        "*PLATEAU": plateau,
        "VALIDATION": _validation(s, stream),
        "TRAINING_SAMPLES": "len(train_set)" if stream else "len(x_train)",
    }
    return [*lines, "", "", *function_lines("keras_main", "main", flags, fill)]


def _validation(s: TrainingSettings, stream: bool) -> str:
    """What ``fit`` is given to validate on: the validation split, or None where it may be empty (Keras warns that
    an empty DataLoader "ran out of data" and keeps no validation numbers)."""
    split, size = ("val_loader", "len(val_set)") if stream else ("(x_val, y_val)", "len(x_val)")
    # a split of VAL_FRACTION > 0 is never empty here; with none, Keras is given None, not an empty split
    return split if s.val_fraction > 0 else f"{split} if {size} else None"


def generate_keras_script(project: Project) -> str:
    """The whole Keras training script; raises KerasExportError, CodegenError or DataError. Its data half is the
    PyTorch script's, with only the steps this data takes: an image folder too big for memory is read batch by
    batch as there (``core.datasets.folder.streams`` decides)."""
    s = project.training
    analysis = analyze(project.graph)
    code: KerasCode = generate_keras_model(project.graph, analysis, project.name)
    shape = torch_script.input_shape_of(project)
    spec = parse_spec(s.dataset)
    tokens = torch_script.reads_tokens(project, spec)
    rows = embedding_rows(project.graph)
    helpers, files, load_lines, flags, npz = data_half(spec, s, shape, tokens, stream=True, vocab_rows=rows)
    model_lines = code.source.splitlines()
    first_def = model_lines.index("def build_model() -> keras.Model:")
    tail = [
        *model_lines[first_def:],
        *script_data_lines(helpers, load_lines, flags),
        "",
        "",
        *keras_functions(
            s,
            npz,
            single_thread(multiply_adds(project.graph, analysis), s.batch_size),
            saves_vocab(spec),
            flags["stream"],
        ),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    body = "\n".join(tail)
    used = used_names(body)
    constants = helper_constants([*files, *_constant_lines(s, spec, shape)], body)
    constants = [line for c in constants if _bound_name(c) in used for line in c.split("\n")]  # those it reads
    imports = used_imports(
        [*KERAS_IMPORTS, *torch_script.SCRIPT_IMPORTS, *module_imports(helpers)], body, skip=frozenset({"os"})
    )
    return "\n".join([*_preamble_lines(project.name), *imports, "", *constants, "", "", *tail]) + "\n"


def _bound_name(constant: str) -> str:
    """The name a constant binds: a comment line may come before it, its value may take several lines."""
    code = next(line for line in constant.split("\n") if not line.startswith("#"))  # a comment may hold " = "
    return code.split(" = ")[0]


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
        f"# PyTorch: {loss_words(s)}\nLOSS = {KERAS_LOSSES[s.loss]}",
    ]
    if s.resize and not SOURCES[spec.kind].sizes_itself:
        constants.append(f"IMAGE_SIZE = {tuple(s.resize)!r}")
    if s.grad_clip:
        constants.append(f"GRAD_CLIP = {s.grad_clip!r}")
    if s.early_stopping:
        constants.append(f"PATIENCE = {s.early_stopping}")
    constants += plateau_constant(s, keras=True)
    return [*constants, 'HISTORY_FILE = "keras_history.json"', 'WEIGHTS_FILE = "keras_model.weights.h5"']


def _preamble_lines(name: str) -> list[str]:
    """The docstring and the backend, chosen before keras is imported, or keras would pick its own."""
    title = name if name.isprintable() else "a project"
    return [
        f'"""Keras 3 training script generated by TorchCanvas for {quoted(title)[1:-1]}.',
        "",
        "The same layers, data split and settings as the PyTorch script, trained with compile/fit;",
        "its own initial weights and batch order, so its numbers differ a little from PyTorch's.",
        "Run it with `python this_file.py` (pip install keras; it uses the torch backend, no TensorFlow).",
        '"""',
        "",
        "import os",
        "",
        'os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported',
        "",
    ]


# What the script's own lines use beside what the PyTorch script's may (``SCRIPT_IMPORTS``: the data half is the
# same); the pasted helpers bring the imports of the modules they come from.
KERAS_IMPORTS = (
    "import functools",  # a streamed folder's targets, made by the DataLoaders
    "import keras",
    "from keras import layers",
    "from torch.utils.data import DataLoader",
    "from torch.utils.data import default_collate",
)
