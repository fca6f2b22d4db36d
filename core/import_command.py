"""``torchcanvas import SOURCE -o PROJECT.json``: an existing PyTorch model as a project with blocks and weights."""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import sys
import time
from pathlib import Path

from core.cli import command, fail
from core.errors import TorchCanvasError


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source",
        help="path/to/file.py:ClassName (the file is run; :ClassName may be left out when the file has one "
        "nn.Module class) or torchvision:NAME",
    )
    p.add_argument("-o", "--out", required=True, help="the project file to write (.json)")
    p.add_argument(
        "--input-shape", help="one sample's shape, e.g. 3,224,224 (default) or 1,28,28; several inputs: '3,32,32;10'"
    )
    p.add_argument(
        "--input-dtype",
        choices=("float32", "int64"),
        help="int64 for token ids (default: int64 for an input that goes into an Embedding, else float32)",
    )
    p.add_argument("--weights", help="a state_dict file (.pt/.pth read with weights_only, or .safetensors)")
    p.add_argument("--args", help="constructor arguments as a JSON list ('[10]') or object ('{\"num_classes\": 10}')")
    p.add_argument(
        "--argv", help="the model file's own command line, for a file that parses it when run: '--dataset fake'"
    )
    p.add_argument("--force", action="store_true", help="replace an existing project file and its initial weights file")
    p.add_argument(
        "--timeout",
        type=float,
        help="stop the import after this many seconds (it runs in a child process: a file that loops forever)",
    )
    # the window, which has asked before replacing the project file: its weights file is kept unless it is its own
    p.add_argument("--replace-project", action="store_true", help=argparse.SUPPRESS)


def frozen() -> bool:
    """A frozen build (PyInstaller sets ``sys.frozen``): ``sys.executable`` is the app, not a Python."""
    return bool(getattr(sys, "frozen", False))


def child_cli() -> list[str]:
    """How a child process runs core's command line: ``python -m core``; a frozen build has no ``python -m``, but
    the app's own command line is core's (``packaging/torchcanvas_main.py`` -> ``gui.shell.launch.main``)."""
    return [sys.executable] if frozen() else [sys.executable, "-m", "core"]


def child_command(args: argparse.Namespace) -> list[str]:
    """The same import as a command line for a child process (``torchcanvas import ...``), without --timeout."""
    command = [*child_cli(), "import", args.source, "-o", str(args.out)]
    for option in ("input_shape", "input_dtype", "weights", "args", "argv"):
        value = getattr(args, option, None)
        if value:
            command.append(f"--{option.replace('_', '-')}={value}")  # '--argv=--niter 0': a value may start with -
    command += [f for f, on in (("--force", args.force), ("--replace-project", args.replace_project)) if on]
    return command


def child_environment() -> dict[str, str]:
    """This process's environment, with the folder that holds ``core`` first on the child's import path (the
    frozen app carries core inside itself)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    if frozen():
        return env
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _with_timeout(args: argparse.Namespace) -> int:
    """Runs the import in a child process and stops it after ``args.timeout`` seconds."""
    import subprocess

    args.timeout, seconds = None, args.timeout
    try:
        return subprocess.run(child_command(args), env=child_environment(), timeout=seconds, check=False).returncode
    except subprocess.TimeoutExpired:
        print("torchcanvas: cannot import the model:", file=sys.stderr)
        print(
            f"  - {args.source} did not finish within {seconds:g} s and was stopped: does the file loop, or train, "
            'when it is run? Move that under `if __name__ == "__main__":` or give a longer --timeout.',
            file=sys.stderr,
        )
        return 1


def module_classes(path: Path) -> list[str]:
    """The nn.Module classes ``path`` defines at its top level, in file order, read from its text (the file is not
    run: a file that loops or trains when run is listed all the same). A class counts when a base is torch.nn's
    (``nn.Module``, ``torch.nn.Sequential``, ``from torch.nn import Module``), an nn.Module class of the file, or a
    class from outside torch and the standard library (a repository's own ``BaseModel``: only running tells)."""
    tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    names: dict[str, str] = {}  # a name in the file -> the dotted name it stands for
    modules: list[str] = []
    statements: list[ast.stmt] = list(tree.body)
    while statements:
        statement = statements.pop(0)
        if isinstance(statement, (ast.If, ast.Try, ast.With)):  # still the file's top level
            inner = [*statement.body, *getattr(statement, "orelse", []), *getattr(statement, "finalbody", [])]
            inner += [s for handler in getattr(statement, "handlers", []) for s in handler.body]
            statements[:0] = inner
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                top = alias.name.split(".")[0]
                names[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
        elif isinstance(statement, ast.ClassDef):
            names.pop(statement.name, None)  # the file's own class, not an import of that name
            if any(_is_module_base(b, names, modules) for b in statement.bases) and statement.name not in modules:
                modules.append(statement.name)
    return modules


def _is_module_base(base: ast.expr, names: dict[str, str], modules: list[str]) -> bool:
    parts: list[str] = []
    node = base
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return False  # a call or subscript (``Generic[T]``): no model's base
    if not parts and node.id in modules:
        return True
    if node.id not in names:
        return False  # a builtin (object, Exception) or a class of the file that is no nn.Module
    dotted = ".".join([names[node.id], *parts])
    top = dotted.split(".")[0]
    if top != "torch":
        return top not in sys.stdlib_module_names  # another package's base class may be an nn.Module
    module_name, _, attribute = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return False
    import torch.nn  # deferred with torch: --help answers without it

    return isinstance(found, type) and issubclass(found, torch.nn.Module)


def with_class(source: str) -> tuple[str, str]:
    """``source`` with its class: ``file.py`` without ``:Class`` takes the file's one nn.Module class (and the
    note that says so); with several, the message lists them. Other sources are returned as they are."""
    # Deferred for start-up: core.fx_import loads torch, which --help and the argument check do without.
    from core.fx_import.trace import ModelImportError

    if ":" in source.removeprefix(os.path.splitdrive(source)[0]) or not source.endswith(".py"):
        return source, ""
    path = Path(source)
    if not path.is_file():
        raise ModelImportError([f"There is no Python file {path}."])
    try:
        classes = module_classes(path)
    except SyntaxError as exc:
        where = f"{path}" + (f", line {exc.lineno}" if exc.lineno else "")
        raise ModelImportError(
            [f"{where}: SyntaxError: {exc.msg}. Fix the file and import it again (python FILE shows the same mistake)."]
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelImportError([f"{path} cannot be read as a Python file ({exc})."]) from None
    if len(classes) == 1:
        return f"{source}:{classes[0]}", (
            f"Took {classes[0]}, the one nn.Module class in {path.name}; give {path.name}:ClassName to import another."
        )
    if not classes:
        raise ModelImportError(
            [
                f"{path} defines no nn.Module class: give the model as {path}:ClassName (a class or a function that "
                "builds it)."
            ]
        )
    raise ModelImportError(
        [
            f"{path}: which class is the model? Its nn.Module classes: {', '.join(classes)}: give one as "
            f"{path}:{classes[-1]}."
        ]
    )


@command("import", _import_args)
def run_import(args: argparse.Namespace) -> int:
    # Deferred for start-up: the importer loads torch; `torchcanvas import --help` answers without it.
    from core.files.initial_weights import save_with_weights, weights_file_for
    from core.fx_import import import_model
    from core.fx_import.source import DEFAULT_IMAGE_SHAPE, load_source, parse_args, parse_argv, parse_shapes, read_state
    from core.weights_reading import unwrap_keys

    out = Path(args.out)
    if out.suffix != ".json":
        return fail(f"{out}: the project file should end in .json.")
    if args.timeout is not None:
        if args.timeout <= 0:
            return fail(f"--timeout {args.timeout:g}: give a number of seconds above 0.")
        return _with_timeout(args)
    if out.exists() and not (args.force or args.replace_project):
        return fail(f"{out} exists; add --force to replace it.")
    if os.path.lexists(weights_file_for(out)) and not (args.force or args.replace_project):
        return fail(f"{weights_file_for(out)} exists (the initial weights go there); add --force to replace it.")
    start = time.perf_counter()
    try:
        shapes = parse_shapes(args.input_shape) if args.input_shape else [list(DEFAULT_IMAGE_SHAPE)]
        source, took = with_class(args.source)
        module = load_source(source, parse_args(args.args), parse_argv(args.argv))
        state, unwrapped = (read_state(args.weights), "") if args.weights else (None, "")
        if state is not None:  # a DataParallel checkpoint's `module.` keys
            state, unwrapped = unwrap_keys(state, module.state_dict(), args.weights)
        name = source.rsplit(":", 1)[-1]
        result = import_model(module, shapes, name=name, state=state, input_dtype=args.input_dtype)
        weights = save_with_weights(result.project, result.state, out, replace=args.force)
    except TorchCanvasError as exc:
        print("torchcanvas: cannot import the model:", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  - {line}", file=sys.stderr)
        return 1
    graph = result.project.graph
    blocks = ", ".join(sorted(graph.blocks)) or "none"
    print(f"Imported {source}: {len(graph)} nodes, blocks: {blocks}")
    print(f"Outputs equal the original's (largest difference {result.max_difference or 0.0:.1e}).")
    for note in [said for said in (took, unwrapped) if said] + result.notes:
        print(f"note: {note}")
    print(f"Wrote {out} and its initial weights {weights.name} ({time.perf_counter() - start:.1f} s).")
    return 0
