"""The Jupyter notebook export: the training script's own code, cut into the steps a tutorial teaches.

The notebook is built from the generated script's text (``core.code.script.generate_script``), never from a copy
of its pieces, so it follows every change to the script: the script's top-level definitions go to the step
that uses them, and the body of its ``main()`` is cut where the model is built, where the epochs loop and where
the weights are saved, and run at the top level of the cells. Each step has a short markdown cell saying what it
does and what Keras writes in its place. Written with nbformat (Jupyter's own library: the ``notebook`` extra).
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from core.code.imports import used_imports
from core.code.keras_code import generate_keras_model, untranslated
from core.code.line_wrap import LINE_LENGTH
from core.code.notebook_words import ONE_PROCESS, phase_two_words, transfer_words
from core.code.script import check_trainable, generate_script
from core.code.script_loop import regresses, uses_amp
from core.code.templates import FOLDER
from core.errors import ExportError
from core.model.analysis import analyze
from core.model.pyparse import parse
from core.model.summary import summary_table

if TYPE_CHECKING:  # only a type here: code generation reads a project, files loads and saves it
    from core.files.project import Project
    from core.settings import TrainingSettings

INSTALL = 'Exporting a notebook needs nbformat: pip install "torchcanvas[notebook]" (or pip install nbformat).'


@dataclass
class Step:
    """One step of the notebook: its markdown and the code that runs it."""

    title: str
    text: str
    code: list[str] = field(default_factory=list)


@dataclass
class _Script:
    """The generated script, sorted by what each top-level statement is."""

    doc: str
    imports: list[str]  # one name a line (``from x import a``): the cells keep those they read
    settings: list[str]
    definitions: dict[str, tuple[str, ast.stmt]]  # its functions and classes, in its order
    main: list[tuple[str, ast.stmt]]  # main's statements, dedented, with their syntax


def _split(source: str) -> _Script:
    lines = source.splitlines()
    tree = parse(source)

    def text(node: ast.stmt) -> str:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        return "\n".join(lines[start - 1 : node.end_lineno])

    doc = ast.get_docstring(tree) or ""
    script = _Script(doc, [], [], {}, [])
    for node in tree.body:
        if isinstance(node, ast.Import):
            script.imports += [ast.unparse(ast.Import(names=[alias])) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            script.imports += [f"from {node.module} import {ast.unparse(alias)}" for alias in node.names]
        elif isinstance(node, ast.FunctionDef) and node.name == "main":
            script.main = [(_dedent(text(s)), s) for s in node.body]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            script.definitions[node.name] = (text(node), node)
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            script.settings.append(NOTEBOOK_WORKERS if text(node).startswith("WORKERS =") else text(node))
    return script


# A streamed folder's DataLoader in a notebook reads in the kernel: a worker process started by spawn (macOS,
# Windows) cannot find a Dataset class defined in a cell. The same batches either way (the order is drawn here).
NOTEBOOK_WORKERS = "WORKERS = 0  # in a notebook: the kernel reads the pictures itself"


def _dedent(code: str) -> str:
    """A statement of ``main`` moved to the top level: four spaces less, and a call ruff format wrapped only for
    the lack of those spaces joined again (``f(\\n    a, b\\n)`` fits on one line now)."""
    lines = textwrap.dedent(code).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.endswith(("(", "[")) and i + 2 < len(lines):
            middle, end = lines[i + 1], lines[i + 2]
            indent = len(line) - len(line.lstrip())
            closing = end.strip()[:1] in (")", "]") and len(end) - len(end.lstrip()) == indent
            if closing and not middle.rstrip().endswith(",") and "#" not in middle:
                joined = line + middle.strip() + end.strip()
                if len(joined) <= LINE_LENGTH:
                    out.append(joined)
                    i += 3
                    continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _called(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _reachable(start: str, functions: Mapping[str, tuple[str, ast.stmt]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        todo += _called(functions[name][1])
    return seen


def _cut(main: list[tuple[str, ast.stmt]]) -> dict[str, list[str]]:
    """``main`` in parts: up to the model, the statement that builds the model, the start of transfer learning
    (to the last call that loads weights or freezes, and what reads its names or moves the model), the training
    (up to the end of the epochs loop), the test, and the saving (from the first statement that writes a file)."""
    parts: dict[str, list[str]] = {"data": [], "model": [], "start": [], "train": [], "test": [], "save": []}
    last = max((i for i, (_, node) in enumerate(main) if _called(node) & STARTS), default=-1)
    bound: set[str] = set()  # what the start binds (``loaded, new = start_from(...)``): its print is the start's
    part = "data"
    for i, (code, node) in enumerate(main):
        source = ast.unparse(node)
        stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if part == "data" and "Net(" in source:
            part = "model"
        elif part in ("model", "start"):
            starting = i <= last or _called(node) & bound or stored == {"model"}  # model = model.to(device)
            part = "start" if starting else "train"
            bound |= stored - {"model"} if starting else set()
        if part == "test" and any(word in source for word in ("torch.save", "write_text", "json.dump")):
            part = "save"
        parts[part].append(_unguarded(code, node))
        if part == "train" and isinstance(node, ast.For):
            part = "test"
    return parts


def _unguarded(code: str, node: ast.stmt) -> str:
    """A ``try`` whose every handler is ``raise SystemExit(...)``, without the guard: in a script it ends the run
    with a sentence; in Jupyter a SystemExit reads as a crashed kernel ("An exception has occurred, use %tb"), so
    the cell lets the error itself show (its last line says what went wrong)."""
    exits = [
        isinstance(h.body[-1], ast.Raise) and "SystemExit" in ast.unparse(h.body[-1])
        for h in getattr(node, "handlers", [])
    ]
    if not isinstance(node, ast.Try) or not exits or not all(exits) or node.orelse or node.finalbody:
        return code
    body = code.splitlines()[1 : node.handlers[0].lineno - node.lineno]
    return textwrap.dedent("\n".join(body))


STARTS = frozenset({"start_from", "start_from_file", "freeze"})  # main's transfer-learning calls before training


@functools.cache
def _transfer_functions() -> frozenset[str]:
    """The functions of transfer learning (``core/code/templates/transfer.py``): a cell of their own."""
    tree = parse((FOLDER / "transfer.py").read_text(encoding="utf-8"))
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def _functions_in(names: set[str], functions: Mapping[str, tuple[str, ast.stmt]]) -> list[str]:
    return [code for name, (code, _) in functions.items() if name in names]


def _keras_model(project: Project) -> str:
    """The Keras model of the same network, or why there is none."""
    try:
        source = generate_keras_model(project.graph, title=project.name).source.splitlines()
    except ExportError as exc:
        return _no_keras(str(exc))
    body = source[source.index("def build_model() -> keras.Model:") :]
    return "In Keras the same network is built as\n\n```python\n" + "\n".join(body) + "\n```"


def _no_keras(message: str) -> str:
    """One sentence naming the layers the Keras export refuses, from its message's ``- name (Type): why``
    lines, grouped by type: ``layer1 and layer2 (Block)``; a reason other than the kind's ``untranslated`` is kept."""
    groups: dict[str, list[str]] = {}
    for line in message.splitlines():
        found = re.fullmatch(r"- (\S+) \((\w+)\): (.+)", line)
        if found:
            name, kind, why = found.groups()
            label = kind if why == untranslated(kind) else f"{kind}: {why}"
            groups.setdefault(label, []).append(f"`{name}`")
    if not groups:
        return f"TorchCanvas cannot write this network in Keras yet: {message.splitlines()[0]}"
    named = [f"{_joined(names)} ({label})" for label, names in groups.items()]
    return f"TorchCanvas cannot write this network in Keras yet: it has no Keras translation for {_joined(named)}."


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _loop_words(s: TrainingSettings) -> str:
    """The loop's steps in the words of the cell below: the flags that choose its lines
    (``core.code.script_loop``) choose the words, so they cannot part."""
    amp = uses_amp(s)
    steps = ["forward and loss under `torch.autocast`" if amp else "forward, loss", "`optimizer.zero_grad()`"]
    steps.append("`scaler.scale(loss).backward()`" if amp else "`loss.backward()`")
    if s.grad_clip:
        steps += ["`scaler.unscale_(optimizer)`"] if amp else []
        steps.append("`nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)`")
    steps += ["`scaler.step(optimizer)`", "`scaler.update()`"] if amp else ["`optimizer.step()`"]
    if s.scheduler == "OneCycleLR":
        steps.append("`scheduler.step()`")
    text = f"PyTorch writes the loop: for each batch, {', '.join(steps)}; after each epoch, the validation loss. "
    if amp:
        text += (
            "With mixed precision on a CUDA GPU, the `GradScaler` multiplies the loss before `backward()` so that "
            "small float16 gradients do not round to zero, and `scaler.step(optimizer)` divides them back before it "
            "calls `optimizer.step()`; on a CPU the scaler is off and these lines are a plain `loss.backward()` and "
            "`optimizer.step()`. "
        )
    return text + "The per-epoch losses are the app's."


def steps(project: Project) -> list[Step]:
    """The notebook's steps, from the generated training script: the script of one process (a Jupyter kernel is
    never started by torchrun, so the DistributedDataParallel lines would never run), its imports those the cells
    read."""
    check_trainable(project, "notebook")
    s = replace(project.training, distributed=False)
    script = _split(generate_script(replace(project, training=s)).source)
    parts = _cut(script.main)
    defined = script.definitions  # what loading reads goes to the data cell, a Dataset class (ImageFiles) too
    data_names = set().union(*(_reachable(n, defined) for n in defined if n.startswith("load")))
    functions = {n: d for n, d in defined.items() if isinstance(d[1], ast.FunctionDef)}
    classes = [code for n, (code, node) in defined.items() if isinstance(node, ast.ClassDef) and n not in data_names]
    measuring = {n for n, (code, _) in functions.items() if "no_grad" in code and n not in data_names}
    transfer = set(functions) & _transfer_functions()
    training = set(functions) - data_names - measuring - transfer
    table = summary_table(project.graph, analyze(project.graph), project.name)
    found = [
        Step(
            "Settings",
            "The imports and every setting of the run as a constant. Keras takes the same numbers as arguments: "
            "`model.compile(optimizer=..., loss=...)` and `model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS)`.",
            ["\n".join(script.settings)],
        ),
        Step(
            "Data",
            "Load the dataset, split it with the seed and normalise it exactly as TorchCanvas does. Tensors, not "
            "a `tf.data` pipeline: in Keras you would pass the same arrays to `model.fit(x_train, y_train, ...)`.",
            [*_functions_in(data_names, defined), "\n".join(parts["data"])],
        ),
        Step(
            "Model",
            "The network as a PyTorch class: layers made in `__init__`, joined in `forward`. Keras writes a chain "
            "as `keras.Sequential([...])` and `model.summary()` prints the table below.\n\n```text\n"
            + table
            + "\n```\n\n"
            + _keras_model(project),
            [
                *classes,
                "\n".join([*parts["model"], "print(model)", PARAMS]),
            ],
        ),
        Step(
            "Measuring the model",
            "`evaluate` switches the model to evaluation mode with `model.eval()` (dropout off, batch norm uses its "
            "running statistics) and turns off gradient bookkeeping with `torch.no_grad()`. Keras does both inside "
            "`model.evaluate(x, y)`.",
            _functions_in(measuring, functions),
        ),
        Step(
            "Training loop",
            f"Where Keras calls `model.fit(x_train, y_train, epochs={s.epochs}, validation_data=(x_val, y_val))`, "
            + _loop_words(s)
            + phase_two_words(s, set(functions))
            + (ONE_PROCESS if project.training.distributed else ""),
            [*_functions_in(training, functions), "\n".join(parts["train"])],
        ),
        Step(
            "Curves",
            f"The {'loss' if regresses(s) else 'loss and accuracy'} of every epoch, as Keras' `history.history` "
            "holds them, plotted with matplotlib (if it is missing: `%pip install matplotlib` in a cell, then run "
            "this one again).",
            [CURVES],
        ),
        Step(
            "Evaluation",
            "The test split, which training never saw. Keras: `model.evaluate(x_test, y_test)`; "
            "PyTorch: `model.eval()` and `torch.no_grad()` inside `evaluate`.",
            ["\n".join(parts["test"])],
        ),
        Step(
            "Saving",
            "The weights as a `state_dict` (load them into `Net()` with `model.load_state_dict(torch.load(...))`) and "
            "the history. Keras: `model.save_weights(...)`.",
            ["\n".join(parts["save"])],
        ),
    ]
    if transfer:  # after the model: the weights it starts from, the layers that stay as they are
        cell = [*_functions_in(transfer, functions), "\n".join(parts["start"])]
        found.insert(3, Step(*transfer_words(s, transfer), cell))
    code = "\n\n".join(part for step in found for part in step.code)
    imports = "\n".join(used_imports(script.imports, code))  # where a name is read: no BadZipFile without its try
    found[0].code = ["\n\n".join(part for part in (imports, found[0].code[0]) if part)]
    return found


PARAMS = 'print(f"Total params: {sum(p.numel() for p in model.parameters()):,}")'
CURVES = """import matplotlib.pyplot as plt


def plot_history(history: list) -> None:
    \"\"\"Loss and accuracy per epoch, training beside validation.\"\"\"
    epochs = [row["epoch"] for row in history]
    names = [name for name in ("loss", "accuracy") if name in history[0]]
    figure, _ = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5))
    for axis, name in zip(figure.axes, names):
        axis.plot(epochs, [row[name] for row in history], label="training")
        if f"val_{name}" in history[0]:
            values = [row[f"val_{name}"] for row in history]
            axis.plot(epochs, values, label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    plt.show()


plot_history(history)"""


def notebook_text(project: Project) -> str:
    """The notebook as JSON text (nbformat 4); raises ExportError when nbformat is missing."""
    try:
        nbformat: Any = importlib.import_module("nbformat")
    except ImportError:
        raise ExportError(INSTALL) from None
    new = nbformat.v4
    title = project.name if project.name.isprintable() else "a project"
    cells = [new.new_markdown_cell(f"# {title}\n\nTrained with PyTorch, step by step, as TorchCanvas trains it.")]
    for step in steps(project):
        cells.append(new.new_markdown_cell(f"## {step.title}\n\n{step.text}"))
        code = "\n\n\n".join(part for part in step.code if part.strip())
        if code:
            cells.append(new.new_code_cell(code))
    notebook = new.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"
