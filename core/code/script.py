"""The standalone training script: what ``torchcanvas export`` writes and what the trainer runs.

The script is assembled from the model class (``core.code.codegen.model_lines``), the data and evaluation
helpers of ``core.portable`` (their source, pasted word for word) and the training loop of
``core.code.script_loop``, which the trainer runs from this very script, so the exported file reproduces an
in-app run on CPU to the last digit. The fixed text of those functions and of ``main`` is real Python in
``core/code/templates``, linted and type-checked there; the ``script_*`` modules pick the lines a project keeps.
It passes ``ruff check`` and ``ruff format --check`` with ruff's default settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.code.codegen import GeneratedCode, attribute_names, check_ok, literal, model_lines
from core.code.imports import module_imports, used_imports, used_names
from core.code.script_data import (
    data_half,
    embedding_rows,
    helper_constants,
    quoted,
    script_data_lines,
)
from core.code.script_loop import augments, classifies, loop_functions, plateau_constant, regresses
from core.code.script_main import main_lines
from core.code.script_transfer import constants as transfer_constants
from core.code.script_transfer import imports as transfer_imports
from core.code.script_transfer import transfer_plan
from core.datasets import wants_tokens
from core.datasets.info import missing_data
from core.datasets.spec import SOURCES, DataSpec, parse_spec
from core.errors import DataError, ExportError
from core.model.analysis import analyze
from core.model.compute import multiply_adds
from core.model.names import module_level_names
from core.portable import image_stream, lean, lean_batches, steps
from core.settings import TrainingSettings

if TYPE_CHECKING:  # only a type here: code generation reads a project, files loads and saves it
    from core.files.project import Project

# What the script's own lines may use; those whose name the finished script reads are imported.
SCRIPT_IMPORTS = (
    "import copy",  # early stopping's copy of the best weights
    "import csv",
    "import gzip",
    "import json",
    "import math",
    "import os",
    "import time",
    "import zipfile",
    "import zlib",
    "from pathlib import Path",
    "from zipfile import BadZipFile",  # the short npz loader's errors
    "import numpy as np",
    "import torch",
    "import torch.distributed as dist",
    "import torch.nn.functional as F",
    "from safetensors.torch import load_file",  # initial weights in a .safetensors file
    "from torch import nn",
    "from torch.nn.parallel import DistributedDataParallel as DDP",
    "from torch.utils.data import DistributedSampler",  # a big image folder's shard, distributed
    "from torchvision import datasets",
)


def eval_batch_size(settings: TrainingSettings) -> int:
    """Validation and test run in bigger batches: no gradients to keep."""
    return max(settings.batch_size, 256)


def input_shape_of(project: Project) -> tuple[int, ...]:
    inputs = project.graph.nodes_of_type("Input")
    return tuple(int(v) for v in inputs[0].params.get("shape", [1, 28, 28])) if inputs else ()


def input_dtype_of(project: Project) -> str:
    """The dtype the Input node takes: "int64" for token ids, else "float32"."""
    inputs = project.graph.nodes_of_type("Input")
    return str(inputs[0].params.get("dtype", "float32")) if inputs else "float32"


def reads_tokens(project: Project, spec: DataSpec) -> bool:
    """Whether the script reads the data as token ids (the PyTorch and the Keras one alike). An Input whose dtype
    does not fit the data is training's error to report; the script then reads the data as the source gives them."""
    try:
        return wants_tokens(spec, input_dtype_of(project))
    except DataError:
        return SOURCES[spec.kind].tokens == "always"


def _constants(project: Project, shape: tuple[int, ...], spec: DataSpec) -> list[str]:
    s = project.training
    lines = [
        f"SEED = {s.seed}",
        f"EPOCHS = {s.epochs}",
        f"BATCH_SIZE = {s.batch_size}",
        f"EVAL_BATCH_SIZE = {eval_batch_size(s)}",
        f"LEARNING_RATE = {s.lr!r}",
        f"VAL_FRACTION = {s.val_fraction!r}",
        f"TEST_FRACTION = {s.test_fraction!r}",
        f"NORMALIZE = {s.normalization()!r}",  # True, False or pretrained weights' (mean, std)
        f"INPUT_SHAPE = {literal(list(shape))}  # one sample, without the batch dimension",
        f'LOSS = "{s.loss}"',
    ]
    if s.resize and not SOURCES[spec.kind].sizes_itself:
        lines.append(f"IMAGE_SIZE = {literal(s.resize)}")
    if s.grad_clip:
        lines.append(f"GRAD_CLIP = {s.grad_clip!r}  # largest allowed gradient norm")
    if s.early_stopping:
        lines.append(f"PATIENCE = {s.early_stopping}  # epochs without improvement before stopping")
    return [*lines, *plateau_constant(s)]


def _loop_helpers(s: TrainingSettings, augmenting: bool, stream: bool = False) -> list[Any]:
    """What the loop needs beside the data: batches (with the torchrun shard only when distributed), the
    target and predicted class for a loss that is not a class loss, augmentation, evaluation (of a big image
    folder's DataLoader batches: stream)."""
    helpers: list[Any] = [steps.shuffled_batches] if s.distributed and not stream else []
    numbers = regresses(s) and not stream  # numbers to predict: the loop's own evaluate (script_loop)
    if not (classifies(s) or numbers):  # a big image folder's labels are classes: a class loss takes them as they are
        helpers += [steps.to_target, steps.classes_of]
    if augmenting:
        helpers.append(steps.augment)
    if stream:
        return [*helpers, lean_batches.evaluate if classifies(s) else image_stream.evaluate]
    if numbers:
        return helpers  # evaluate is the loop's own: the loss alone
    return [*helpers, lean.evaluate if classifies(s) else steps.evaluate]


# What the data of each kind of the user's own files is, in words: "on the table data.csv"
DATA_WORDS = {
    "npz": "the NumPy file {}",
    "idx": "the MNIST-format files {}",
    "csv": "the CSV file {}",
    "folder": "the image folder {}/",
    "tabular": "the table {}",
    "text": "the text {}",
}


def data_words(spec: DataSpec) -> str:
    """The data as the script's first line names it: the built-in set's name, or what the user's files are and
    their names (not their folders: the line is for reading)."""
    if not SOURCES[spec.kind].user_files or not spec.paths:
        return spec.text
    if spec.kind == "folder":  # the folder as IMAGE_FOLDER names it: imagenet/train, not train
        return DATA_WORDS["folder"].format(spec.paths[0].rstrip("/"))
    names = " and ".join(Path(path).name or path for path in spec.paths)
    return DATA_WORDS.get(spec.kind, f"the {spec.kind} file {{}}").format(names)


def _script_docstring(project: Project, spec: DataSpec) -> list[str]:
    title = project.name if project.name.isprintable() else "a project"
    data = quoted(data_words(spec))[1:-1]
    doc = [f'"""{quoted(title)[1:-1]!s} on {data}, generated by TorchCanvas: `python this_file.py` trains it.']
    if project.training.distributed:
        doc += [
            "",
            "On N processes (GPUs, or CPU processes) of one machine, run it with",
            "`torchrun --nproc_per_node=N this_file.py`; on M machines, on each of them",
            "`torchrun --nnodes=M --nproc_per_node=N --rdzv-backend=c10d --rdzv-endpoint=HOST:29500",
            "this_file.py`, HOST the first machine's address (TorchCanvas's docs/SCALING.md).",
        ]
    doc = [line.replace('"""', "'''") if i > 0 else line for i, line in enumerate(doc)]
    return [doc[0] + '"""'] if len(doc) == 1 else [*doc, '"""']


class UntrainableError(ExportError):
    """A training script asked for a project that cannot train: it would crash when run."""


def setup_problems(project: Project) -> list[str]:
    """What keeps a project from training beside its network's analysis against the data (``torchcanvas check``
    prints both): a dataset that cannot be named, or several Output nodes (the loss compares one output with the
    labels; a ``forward`` returning a tuple imports as one Output per item)."""
    problems: list[str] = []
    try:
        parse_spec(project.training.dataset)
    except DataError as exc:
        problems.append(str(exc))
    outputs = len(project.graph.nodes_of_type("Output"))
    if outputs > 1:
        problems.append(
            f"Training needs exactly one Output node; this network has {outputs}: remove the others, or export "
            "the model code alone (it returns a tuple)."
        )
    return problems


def check_trainable(project: Project, what: str = "training script") -> None:
    """Refuse a training script for a project that cannot train, in the words ``torchcanvas check`` gives; data
    that is not on this computer is not refused: the script may run where it is (``core.files.export`` notes it)."""
    elsewhere = missing_data(project.training.dataset)
    errors = analyze(project.graph, project.training).errors
    problems = [p.message for p in errors if p.message not in elsewhere] + setup_problems(project)
    if problems:
        listing = "\n".join(f"- {message}" for message in problems)
        raise UntrainableError(f"Cannot export the {what}: the project cannot train yet (as check says):\n{listing}")


def generate_script(project: Project) -> GeneratedCode:
    """A complete training script for the project, holding only what this project uses (the short loader for
    grey images, ``prepare``'s steps for its data, a class loss's ``evaluate``, torchrun lines only when
    distributed); raises
    CodegenError/DataError when it cannot be built."""
    s = project.training
    analysis = analyze(project.graph)
    check_ok(analysis)  # the network's problems first, before the data's
    shape = input_shape_of(project)
    spec = parse_spec(s.dataset)
    tokens = reads_tokens(project, spec)
    augmenting = bool(augments(s)) and len(shape) == 3 and not tokens
    rows = embedding_rows(project.graph)  # a text's vocabulary is sized to them
    helpers, files, load_lines, flags, npz = data_half(spec, s, shape, tokens, stream=True, vocab_rows=rows)
    helpers += [h for h in _loop_helpers(s, augmenting, flags["stream"]) if h not in helpers]
    transfer = transfer_plan(project, analysis, attribute_names(project.graph, analysis))
    tail = [
        *script_data_lines(helpers, load_lines, flags),
        "",
        "",
        *loop_functions(s, augmenting, transfer),
        "",
        "",
        *main_lines(s, multiply_adds(project.graph, analysis), npz, transfer, flags["stream"]),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    code_text = "\n".join(tail)
    settings = [*_constants(project, shape, spec), *transfer_constants(transfer, s.unfreeze_lr_factor, s.freeze_epochs)]
    constants = helper_constants(files + settings, code_text)
    # a block's class never takes a name the script binds itself (a block named main, Path or evaluate)
    taken = module_level_names("\n".join([*SCRIPT_IMPORTS, *constants, *tail]))
    body, code = model_lines(project.graph, analysis, "Net", taken)
    used = used_names("\n".join(body.lines + tail))
    constants = [c for c in constants if c.split(" = ")[0].split("\n")[-1] in used]  # those the script reads
    constants = [line for constant in constants for line in constant.split("\n")]  # FROZEN may be several
    candidates = [*SCRIPT_IMPORTS, *module_imports(helpers), *transfer_imports(transfer)]
    imports = used_imports(candidates, "\n".join(body.lines + tail + constants))  # WORKERS reads os
    top = [*_script_docstring(project, spec), "", *imports, "", *constants, "", ""]
    code.line_to_node = {line + len(top): nid for line, nid in body.line_to_node.items()}
    code.source = "\n".join(top + body.lines + tail) + "\n"
    return code
