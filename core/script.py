"""The standalone training script: what ``torchcanvas export`` writes and what the trainer runs.

The script is assembled from the model class (``core.codegen.model_lines``), the data and evaluation
helpers of ``core.portable`` (their source, pasted word for word) and the training loop of
``core.script_loop``, which the trainer runs from this very script, so the exported file reproduces an
in-app run on CPU to the last digit.
It passes ``ruff check`` and ``ruff format --check`` with ruff's default settings.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from core.analysis import analyze
from core.codegen import GeneratedCode, literal, model_lines
from core.datasets import wants_tokens
from core.datasets.spec import SOURCES, DataSpec, parse_spec
from core.errors import DataError
from core.portable import sources, steps
from core.project import Project
from core.script_loop import loop_functions, main_lines
from core.settings import TrainingSettings


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


def _source(function: Any) -> list[str]:
    return inspect.getsource(function).rstrip("\n").splitlines()


def _string(text: str) -> str:
    """A double-quoted Python literal for any text (paths), as ruff format writes it."""
    return json.dumps(text)


def _loader(
    spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool = False
) -> tuple[list[Any], list[str], list[str]]:
    """The helpers the data needs, constants naming its files, and the lines of ``load_data``, from the
    source's registry entry (tokens: the Input takes int64 token ids, as ``core.datasets.wants_tokens`` decides)."""
    load = SOURCES[spec.kind].script(spec, settings, shape, tokens)
    if load.lines:
        return load.helpers, load.constants, load.lines
    if settings.resize and not tokens:
        lines = [
            f"x, y, x_test, y_test, class_names = {load.call}",
            "x = resize_images(x, IMAGE_SIZE)",
            "if x_test is not None:",
            "    x_test = resize_images(x_test, IMAGE_SIZE)",
            "raw = (x, y, x_test, y_test, class_names)",
        ]
        return [*load.helpers, steps.resize_images], load.constants, lines
    return load.helpers, load.constants, [f"raw = {load.call}"]


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
        f"NORMALIZE = {s.normalize!r}",
        f"INPUT_SHAPE = {literal(list(shape))}  # one sample, without the batch dimension",
        f'LOSS = "{s.loss}"',
    ]
    if s.resize and not SOURCES[spec.kind].sizes_itself:
        lines.append(f"IMAGE_SIZE = {literal(s.resize)}")
    if s.grad_clip:
        lines.append(f"GRAD_CLIP = {s.grad_clip!r}  # largest allowed gradient norm")
    if s.early_stopping:
        lines.append(f"PATIENCE = {s.early_stopping}  # epochs without improvement before stopping")
    lines.append('WEIGHTS_FILE = "model_weights.pt"')
    return lines


def generate_script(project: Project) -> GeneratedCode:
    """A complete training script for the project; raises CodegenError/DataError when it cannot be built."""
    s = project.training
    analysis = analyze(project.graph)
    body, code = model_lines(project.graph, analysis, "Net")
    shape = input_shape_of(project)
    spec = parse_spec(s.dataset)
    augmenting = bool(s.augment_flip or s.augment_rotation or s.augment_shift) and len(shape) == 3
    try:
        tokens = wants_tokens(spec, input_dtype_of(project))
    except DataError:  # the Input's dtype does not fit the data: training says so; export the data as it is
        tokens = SOURCES[spec.kind].tokens == "always"
    augmenting = augmenting and not tokens
    helpers, files, load_lines = _loader(spec, s, shape, tokens)
    helpers += [steps.prepare, steps.shuffled_batches, steps.to_target, steps.predict, steps.evaluate]
    helpers.append(steps.progress_line)
    if augmenting:
        helpers.append(steps.augment)
    title = project.name if project.name.isprintable() else "a project"
    doc = [
        f'"""Training script generated by TorchCanvas for {_string(title)[1:-1]!s}.',
        "",
        f"Dataset: {spec.kind + ' file(s)' if SOURCES[spec.kind].user_files else spec.text}.",
        "Run it with `python this_file.py`: it trains, prints one line per epoch,",
        "reports the test accuracy and saves the weights and the history.",
        '"""',
    ]
    doc = [line.replace('"""', "'''") if 0 < i < len(doc) - 1 else line for i, line in enumerate(doc)]
    helper_text = "\n".join("\n".join(_source(h)) for h in helpers)
    modules = ["json", "math", "time"]
    for name in ("csv", "gzip", "zipfile", "zlib"):
        if f"{name}." in helper_text:
            modules.append(name)
    imports = [f"import {m}" for m in sorted(modules)]
    imports += ["from pathlib import Path", "", "import numpy as np", "import torch"]
    imports += ["import torch.nn.functional as F", "from torch import nn"]
    if "np." not in helper_text:
        imports.remove("import numpy as np")
    constants = files + _constants(project, shape, spec)
    if "IMAGE_SUFFIXES" in helper_text:
        constants.append(f"IMAGE_SUFFIXES = {sources.IMAGE_SUFFIXES!r}".replace("'", '"'))
    if "MAX_CLASSES" in helper_text:
        constants.append(f"MAX_CLASSES = {sources.MAX_CLASSES:_}  # a larger class label is taken for a mistake")
    top = [*doc, "", *imports, "", *constants, "", ""]
    lines = top + body.lines
    code.line_to_node = {line + len(top): nid for line, nid in body.line_to_node.items()}
    for helper in helpers:
        lines += ["", "", *_source(helper)]
    lines += [
        "",
        "",
        "def load_data() -> dict:",
        '    """The dataset, split with the seed and normalised exactly as in TorchCanvas."""',
        *[f"    {line}" for line in load_lines],
        "    return prepare(raw, VAL_FRACTION, TEST_FRACTION, SEED, NORMALIZE, INPUT_SHAPE)",
        "",
        "",
        *loop_functions(s, augmenting),
        "",
        "",
        *main_lines(s, analysis.total_params),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    code.source = "\n".join(lines) + "\n"
    return code
