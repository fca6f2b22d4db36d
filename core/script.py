"""The standalone training script: what ``torchcanvas export`` writes and what the trainer runs.

The script is assembled from the model class (``core.codegen.model_lines``), the data and evaluation
helpers of ``core.portable`` (their source, pasted word for word) and a training loop written in the same
order as ``core.training.loop``, so the exported file reproduces an in-app run on CPU to the last digit.
It passes ``ruff check`` and ``ruff format --check`` with ruff's default settings.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from core.analysis import analyze
from core.codegen import GeneratedCode, call_lines, literal, model_lines
from core.datasets import wants_tokens
from core.datasets.folder import image_geometry
from core.datasets.sequences import sequence_options
from core.datasets.spec import DataSpec, parse_spec
from core.errors import DataError
from core.portable import sources, steps, tables
from core.project import Project
from core.settings import TrainingSettings

DATA_DIR = "data"  # where the script lets torchvision download to, next to where it runs
PLATEAU_PATIENCE = 3
NO_MOMENTUM = ("Adadelta", "Adagrad")  # OneCycleLR cannot cycle their momentum
# Below this many parameters a model trains fastest on one CPU thread: the threads of a bigger pool mostly
# wait for each other, and slow down badly when other programs keep the cores busy.
SMALL_MODEL_PARAMS = 200_000


def single_thread(total_params: int) -> bool:
    """Whether CPU training uses one thread (the app and the script decide alike, so their sums match)."""
    return total_params < SMALL_MODEL_PARAMS


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
    """The helpers the data needs, constants naming its files, and the lines of ``load_data``
    (tokens: the Input takes int64 token ids, read as ``core.datasets.wants_tokens`` decides)."""
    files: list[str] = []
    if spec.kind == "table":
        return [sources.load_sklearn], files, [f"raw = load_sklearn({_string(spec.name)})"]
    if spec.kind == "points":
        o = spec.options
        args = f'"{spec.name}", {o["samples"]}, {float(o["noise"])!r}, {o["classes"]}, SEED'
        return [sources.make_points], files, [f"raw = make_points({args})"]
    if spec.kind == "sequences":
        n = sequence_options(spec.options)
        args = f"{n['samples']}, {n['length']}, {n['vocab']}, {n['classes']}, SEED"
        return [sources.make_sequences], files, [f"raw = make_sequences({args})"]
    if spec.kind == "folder":
        resize = (settings.resize[0], settings.resize[1]) if settings.resize else None
        size, channels = image_geometry(shape, resize)
        files.append(f"IMAGE_FOLDER = {_string(spec.paths[0])}  # one sub-folder per class")
        call = f"load_image_folder(IMAGE_FOLDER, {literal(size)}, {channels})"
        return [sources.images_to_tensor, sources.load_image_folder], files, [f"raw = {call}"]
    helpers: list[Any]
    base = [sources.images_to_tensor, sources.labels_to_tensor, sources.check_lengths, sources.class_count]
    base.append(sources.check_file)
    flag = ", tokens=True" if tokens else ""
    if spec.kind == "vision":
        helpers = [sources.images_to_tensor, sources.load_torchvision]
        call = f'load_torchvision("{spec.name}", DATA_DIR)'
    elif spec.kind == "npz":
        files.append(f"DATA_FILE = {_string(spec.paths[0])}")
        npz = [sources.tokens_to_tensor, sources.check_finite, sources.read_npz, sources.npz_inputs]
        helpers, call = [*base, *npz, sources.load_npz], f"load_npz(DATA_FILE{flag})"
    elif spec.kind == "idx":
        files.append(f"IMAGES_FILE = {_string(spec.paths[0])}")
        files.append(f"LABELS_FILE = {_string(spec.paths[1])}")
        helpers = [*base, sources.read_idx, sources.load_idx]
        call = "load_idx(IMAGES_FILE, LABELS_FILE)"
    else:
        files.append(f"DATA_FILE = {_string(spec.paths[0])}")
        files.append(f"LABEL_COLUMN = {_string(spec.label_column)}")
        helpers = [sources.labels_to_tensor, sources.class_count, sources.check_file, tables.read_csv_rows]
        helpers += [tables.check_label_kinds, tables.is_number, tables.load_csv]
        call = f"load_csv(DATA_FILE, LABEL_COLUMN{flag})"
    if settings.resize and not tokens:
        lines = [
            f"x, y, x_test, y_test, class_names = {call}",
            "x = resize_images(x, IMAGE_SIZE)",
            "if x_test is not None:",
            "    x_test = resize_images(x_test, IMAGE_SIZE)",
            "raw = (x, y, x_test, y_test, class_names)",
        ]
        return [*helpers, steps.resize_images], files, lines
    return helpers, files, [f"raw = {call}"]


def _device_lines(device: str) -> list[str]:
    if device == "cpu":
        return ['    device = torch.device("cpu")']
    if device == "cuda":
        return ['    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")']
    if device == "mps":
        return ['    device = torch.device("mps" if torch.backends.mps.is_available() else "cpu")']
    return [
        "    if torch.cuda.is_available():",
        '        device = torch.device("cuda")',
        "    elif torch.backends.mps.is_available():",
        '        device = torch.device("mps")',
        "    else:",
        '        device = torch.device("cpu")',
    ]


def _optimizer_args(s: TrainingSettings) -> list[str]:
    args = ["model.parameters()", "lr=LEARNING_RATE"]
    if s.optimizer in ("SGD", "RMSprop") and s.momentum:
        args.append(f"momentum={s.momentum!r}")
    if s.optimizer == "SGD" and s.nesterov:
        args.append("nesterov=True")
    if s.weight_decay:
        args.append(f"weight_decay={s.weight_decay!r}")
    return args


def _scheduler_lines(s: TrainingSettings) -> list[str]:
    head = f"    scheduler = torch.optim.lr_scheduler.{s.scheduler}"
    if s.scheduler == "StepLR":
        args = ["optimizer", f"step_size={s.step_size}", f"gamma={s.gamma!r}"]
    elif s.scheduler == "CosineAnnealingLR":
        args = ["optimizer", "T_max=EPOCHS"]
    elif s.scheduler == "OneCycleLR":
        args = ["optimizer", "max_lr=LEARNING_RATE", "total_steps=EPOCHS * steps_per_epoch"]
        if s.optimizer in NO_MOMENTUM:
            args.append("cycle_momentum=False")
    elif s.scheduler == "ReduceLROnPlateau":
        mode = '"max"' if s.monitor.endswith("accuracy") else '"min"'
        args = ["optimizer", f"mode={mode}", f"factor={s.gamma!r}", f"patience={PLATEAU_PATIENCE}"]
    else:
        return []
    return _indent_call(head, args)


def _indent_call(head: str, args: list[str]) -> list[str]:
    indent = head[: len(head) - len(head.lstrip())]
    return call_lines(indent, head.strip(), args)


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
    if s.resize and spec.kind != "folder":
        lines.append(f"IMAGE_SIZE = {literal(s.resize)}")
    if spec.kind == "vision":
        lines.append(f'DATA_DIR = "{DATA_DIR}"  # torchvision downloads the files here')
    if s.grad_clip:
        lines.append(f"GRAD_CLIP = {s.grad_clip!r}  # largest allowed gradient norm")
    if s.early_stopping:
        lines.append(f"PATIENCE = {s.early_stopping}  # epochs without improvement before stopping")
    lines.append('WEIGHTS_FILE = "model_weights.pt"')
    return lines


def _train_step(s: TrainingSettings, augmenting: bool) -> list[str]:
    i = " " * 12
    target = "labels" if s.loss in steps.CLASS_LOSSES else "to_target(outputs, labels, LOSS)"
    lines = [
        f"{i}batch = order[first : first + BATCH_SIZE]",
        f"{i}inputs, labels = x_train[batch], y_train[batch]",
    ]
    if augmenting:
        rot = float(s.augment_rotation)
        lines.append(f"{i}inputs = augment(inputs, {s.augment_flip!r}, {rot!r}, {s.augment_shift})")
    if s.amp:
        lines += [
            f"{i}with torch.autocast(device.type, enabled=use_amp):",
            f"{i}    outputs = model(inputs)",
            f"{i}    loss = loss_fn(outputs, {target})",
            f"{i}optimizer.zero_grad()",
            f"{i}scaler.scale(loss).backward()",
        ]
        if s.grad_clip:
            lines += [f"{i}scaler.unscale_(optimizer)", f"{i}nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)"]
        lines += [f"{i}scaler.step(optimizer)", f"{i}scaler.update()"]
    else:
        lines += [
            f"{i}outputs = model(inputs)",
            f"{i}loss = loss_fn(outputs, {target})",
            f"{i}optimizer.zero_grad()",
            f"{i}loss.backward()",
        ]
        if s.grad_clip:
            lines.append(f"{i}nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)")
        lines.append(f"{i}optimizer.step()")
    if s.scheduler == "OneCycleLR":
        lines.append(f"{i}scheduler.step()")
    lines += [
        f"{i}total_loss += loss.item() * len(labels)",
        f"{i}correct += (predict(outputs, LOSS) == labels).sum().item()",
    ]
    return lines


def _main(project: Project, augmenting: bool, total_params: int) -> list[str]:
    s = project.training
    monitor = s.monitor
    lines = [
        "def main() -> None:",
        "    torch.manual_seed(SEED)",
        *_device_lines(s.device),
        *(
            [
                '    if device.type == "cpu":',
                "        torch.set_num_threads(1)  # a model this small is fastest on one thread",
            ]
            if single_thread(total_params)
            else []
        ),
        "    try:",
        "        data = load_data()",
        "    except (OSError, ValueError) as error:  # a bad data file: say which, and stop",
        '        raise SystemExit(f"Cannot load the data: {error}") from None',
        '    x_train, y_train = data["x_train"].to(device), data["y_train"].to(device)',
        '    x_val, y_val = data["x_val"].to(device), data["y_val"].to(device)',
        '    x_test, y_test = data["x_test"].to(device), data["y_test"].to(device)',
        "",
        "    model = Net().to(device)",
        f"    loss_fn = nn.{s.loss}()",
        *_indent_call(f"    optimizer = torch.optim.{s.optimizer}", _optimizer_args(s)),
        "    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)",
        *_scheduler_lines(s),
    ]
    if s.amp:
        lines += [
            '    use_amp = device.type == "cuda"  # mixed precision on the GPU only',
            '    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)',
        ]
    lines += [
        "    shuffle = torch.Generator().manual_seed(SEED)  # the order of the batches",
        "    history = []",
    ]
    if s.early_stopping:
        lines += ["    best, waited = None, 0"]
    lines += [
        "",
        "    for epoch in range(1, EPOCHS + 1):",
        "        model.train()",
        "        started = time.perf_counter()",
        "        order = torch.randperm(len(x_train), generator=shuffle).to(device)",
        "        total_loss, correct = 0.0, 0",
        "        for first in range(0, len(x_train), BATCH_SIZE):",
        *_train_step(s, augmenting),
        "        seconds = time.perf_counter() - started",
        "        val_loss, val_accuracy, _ = evaluate(",
        "            model, x_val, y_val, loss_fn, LOSS, EVAL_BATCH_SIZE",
        "        )",
        "        metrics = {",
        '            "loss": total_loss / len(x_train),',
        '            "accuracy": correct / len(x_train),',
        '            "val_loss": val_loss,',
        '            "val_accuracy": val_accuracy,',
        "        }",
        '        lr = optimizer.param_groups[0]["lr"]',
        '        history.append({"epoch": epoch, **metrics, "lr": lr, "seconds": seconds})',
        '        print(f"Epoch {epoch}/{EPOCHS}")',
        "        print(progress_line(steps_per_epoch, seconds, len(x_train), metrics))",
    ]
    watched = f'metrics["{monitor}"] if len(x_val) else metrics["{monitor.removeprefix("val_")}"]'
    if s.scheduler in ("StepLR", "CosineAnnealingLR"):
        lines.append("        scheduler.step()")
    elif s.scheduler == "ReduceLROnPlateau":
        lines.append(f"        scheduler.step({watched})")
    if s.early_stopping:
        better = "value > best" if monitor.endswith("accuracy") else "value < best"
        lines += [
            f"        value = {watched}",
            f"        if best is None or {better}:",
            "            best, waited = value, 0",
            "        else:",
            "            waited += 1",
            "            if waited >= PATIENCE:",
            f'                print(f"Early stopping: no better {monitor} for {{PATIENCE}} epochs.")',
            "                break",
        ]
    lines += [
        "",
        "    test_loss, test_accuracy, _ = evaluate(",
        "        model, x_test, y_test, loss_fn, LOSS, EVAL_BATCH_SIZE",
        "    )",
        '    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")',
        "    torch.save(model.state_dict(), WEIGHTS_FILE)",
        '    Path("history.json").write_text(json.dumps(history, indent=2))',
        '    print(f"Saved the weights to {WEIGHTS_FILE}")',
    ]
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
        tokens = spec.kind == "sequences"
    augmenting = augmenting and not tokens
    helpers, files, load_lines = _loader(spec, s, shape, tokens)
    helpers += [steps.prepare, steps.to_target, steps.predict, steps.evaluate, steps.progress_line]
    if augmenting:
        helpers.append(steps.augment)
    title = project.name if project.name.isprintable() else "a project"
    doc = [
        f'"""Training script generated by TorchCanvas for {_string(title)[1:-1]!s}.',
        "",
        f"Dataset: {spec.text if spec.kind not in ('npz', 'idx', 'csv', 'folder') else spec.kind + ' file(s)'}.",
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
        *_main(project, augmenting, analysis.total_params),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    code.source = "\n".join(lines) + "\n"
    return code
