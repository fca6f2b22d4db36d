"""The ``torchcanvas`` command: open the editor, or check / export / train a project without a screen."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from core import __version__
from core.errors import TorchCanvasError
from core.files.export_formats import FORMATS
from core.files.file_errors import explain_os_error
from core.logs import append_traceback
from core.resources import resource_dir
from core.settings import DEVICES

EXAMPLES_DIR = resource_dir("examples")  # core.resources: the same lookup for a clone, a wheel, a frozen build
DEFAULT_EXAMPLE = EXAMPLES_DIR / "digits_mlp.json"

DESCRIPTION = f"""\
TorchCanvas: draw a neural network, see its tensor shapes, get readable PyTorch code, train it.

  torchcanvas                      open the editor with the example network
  torchcanvas PROJECT.json         open a project in the editor
  torchcanvas check PROJECT        print a summary table; exit 1 with the problems if the graph is invalid
  torchcanvas export PROJECT [-o OUT] [--format {"|".join(FORMATS)}]
                             [--weights RUN_DIR] [--model-only] [--force]
                                   write the training script, the model module, trained weights,
                                   ONNX, a torch.export .pt2, a Keras 3 script or a notebook
  torchcanvas train PROJECT [--data SPEC] [--epochs N] [--batch-size B] [--lr LR] [--optimizer NAME]
                            [--device {"|".join(DEVICES)}] [--seed S] [--fine-tune | --from-scratch]
                            [--out DIR] [--no-health] [--tensorboard]
                                   train without the window; writes a run folder with summary.json
  torchcanvas data SPEC|PATH [--label COLUMN] [--kind COLUMN=KIND] [--examples DIR]
                                   what a data source holds (classes, splits, image sizes, table columns)
                                   before anything trains; exit 1 with what training would refuse
  torchcanvas lr-find PROJECT [--data SPEC] [--start LR] [--end LR] [--steps N] [--csv FILE]
                                   learning-rate range test: the loss against a rising rate, a suggested rate
  torchcanvas import SOURCE -o PROJECT.json [--input-shape C,H,W[;SHAPE2...]] [--input-dtype float32|int64]
                            [--weights FILE] [--args JSON] [--argv ARGS] [--force] [--timeout SECONDS]
                                   an existing PyTorch model (file.py:ClassName, torchvision:NAME) as a
                                   project, its weights saved beside it
  torchcanvas install-desktop [--exec PATH]
                                   Linux: add the app to the menu, its icon, and the MIME type of projects
"""
# Hand-written rather than argparse's: the commands' parsers live in modules that import numpy or torch, which
# --help must not wait for (tests/gui/test_fast_start.py). tests/core/test_cli_help.py checks that every option
# of every command's parser is in it, and in README's list.

# Subcommands register themselves here: name -> (configure parser, run) so each lives in its own module.
Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}
# The modules that register the other subcommands, by name, so that only the one asked for is imported:
# `torchcanvas train` imports torch, and `torchcanvas --version`, `--help` and the editor must not wait for that.
COMMAND_MODULES = {
    "train": "core.train_command",
    "install-desktop": "core.desktop",
    "import": "core.import_command",
    "lr-find": "core.lr_find_command",
}
# What check and export say of a project whose dataset is left unset ("": an imported model).
NO_DATASET = (
    "No dataset is chosen yet (an imported model comes without one): choose it in the window's Data panel, or "
    "train with `torchcanvas train PROJECT --data SPEC` (torchcanvas data FILE suggests a spec)."
)
# A window side beyond what Qt can make (its limit is 16777215, but an image of that size does not fit in memory:
# --size 100000x100000 crashed) or too small to show the panels.
MIN_WINDOW_SIDE = 200
MAX_WINDOW_SIDE = 16384


def command(
    name: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = (configure, run)
        return run

    return register


def fail(message: str) -> int:
    print(f"torchcanvas: error: {message}", file=sys.stderr)
    return 2


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="project file (.json)")


@command("check", _check_args)
def run_check(args: argparse.Namespace) -> int:
    # Deferred for start-up: --version, --help and the window's start load no model (networkx) through cli.
    from core.files.project import load
    from core.model.analysis import analyze
    from core.model.summary import summary_table
    from core.model.task_check import describe_task

    project = load(args.project)
    analysis = analyze(project.graph, project.training)  # the graph, and the graph against its dataset and loss
    print(summary_table(project.graph, analysis, project.name))
    task = describe_task(project.training)
    if task:
        print(task)
    for problem in analysis.problems:
        tag = "error" if problem.severity == "error" else "warning"
        print(f"{tag}: {problem.message}", file=sys.stderr if tag == "error" else sys.stdout)
    # Deferred for start-up: they import torch.
    from core.code.script import setup_problems
    from core.training.precheck import memory_problems
    from core.training.setup import initial_weights_problems

    setup = setup_problems(project)  # train and export refuse these too (a dataset without a name, two Outputs)
    setup += initial_weights_problems(project.training.initial_weights)  # train refuses them in these words
    too_big, big = memory_problems(project, analysis)  # train refuses (warns) in these words: what it would hold
    setup += too_big
    for message in big:
        print(f"warning: {message}")
    if not project.training.dataset.strip():  # left unset (an imported model): a step still to take, not a fault
        setup = [message for message in setup if not message.startswith("No dataset given")]
        print(f"note: {NO_DATASET}")
    for message in setup:
        print(f"error: {message}", file=sys.stderr)
    if not analysis.ok or setup:
        count = len(analysis.errors) + len(setup)
        print(f"{count} problem(s) to fix before this network can run.", file=sys.stderr)
        return 1
    print("OK: the network is valid.")
    return 0


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", nargs="?", help="a dataset spec (table:data.csv, folder:pets, ...) or a file or folder")
    p.add_argument("--label", metavar="COLUMN", help="a table's column to predict")
    p.add_argument("--kind", action="append", default=[], metavar="COLUMN=KIND", help="number, category, text, ignore")
    p.add_argument("--examples", metavar="DIR", help="write the generated text examples into DIR and survey them")


@command("data", _data_args)
def run_data(args: argparse.Namespace) -> int:
    # Deferred for start-up: the datasets package loads NumPy; --version and --help must not wait for it.
    from core.datasets.spec import parse_spec
    from core.datasets.survey import guess_spec, survey, survey_lines
    from core.errors import DataError

    if args.examples:
        from core.files.text_examples import write_next_char, write_sentiment  # deferred for start-up: NumPy

        Path(args.examples).mkdir(parents=True, exist_ok=True)
        specs = [write_sentiment(args.examples), write_next_char(args.examples)]
    elif args.spec:
        path = Path(args.spec).expanduser()
        named_file = ":" not in args.spec and (bool(path.suffix) or "/" in args.spec)
        specs = [guess_spec(args.spec) if path.exists() or named_file else args.spec]
    else:
        return fail("give a dataset spec, a file or a folder (or --examples DIR)")
    kinds = dict(item.partition("=")[::2] for item in args.kind)
    code = 0
    for spec in specs:
        parse_spec(spec)  # a spec that means nothing is the command line's error (exit 2)
        try:
            found = survey(spec, label_column=args.label, column_kinds=kinds or None)
        except DataError as exc:  # data that training refuses (a bad row, a missing folder): exit 1, as README says
            print(f"torchcanvas: error: {exc}", file=sys.stderr)
            code = 1
            continue
        for line in survey_lines(found):
            print(line, file=sys.stderr if line.startswith("error: ") else sys.stdout)
        code = 1 if found.problems else code
    return code


def _export_args(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Export a project: the training script (script), the nn.Module only (model), trained weights as a "
        "state_dict (weights: .pt, or .safetensors when OUT ends so), ONNX (onnx: one self-contained file, checked "
        'with onnx.checker and onnxruntime; needs pip install "torchcanvas[export]"), a torch.export program (pt2), '
        'the same network and training as a Keras 3 script (keras; it runs with pip install "torchcanvas[keras]"), '
        'a Jupyter notebook of the script in cells (notebook; pip install "torchcanvas[notebook]") or predict.py, '
        "which gives one new input's class and probability as Try it does (predict; --weights RUN_DIR)."
    )
    p.add_argument("project", help="project file (.json)")
    p.add_argument("-f", "--format", choices=FORMATS, help="what to export (default: script)")
    p.add_argument("-o", "--output", help="where to write it (default: PROJECT's name with .py/_model.py/.pt/...)")
    p.add_argument("--model-only", action="store_true", help="same as --format model")
    p.add_argument(
        "--weights",
        metavar="RUN_DIR_OR_PT",
        help="trained weights: a run folder (its final weights last.pt, else best.pt) or a .pt / .safetensors file; "
        "needed for --format weights, optional for onnx and pt2 (else freshly initialised weights)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace OUT even when it is a project file (.json); without it such an output is refused",
    )


@command("export", _export_args)
def run_export(args: argparse.Namespace) -> int:
    # Deferred for start-up: the script generator and the exporter import torch.
    from core.code.script import UntrainableError
    from core.files.export import default_output, export
    from core.files.project import load

    fmt = args.format or ("model" if args.model_only else "script")
    if args.model_only and fmt != "model":
        return fail(f"--model-only contradicts --format {fmt}")
    project = load(args.project)
    if fmt in ("script", "keras") and not project.training.dataset.strip():
        if args.format:  # a training script asked for by name: it cannot read data that is not chosen
            return fail(f"{args.project}: a training script needs a dataset; {NO_DATASET}")
        fmt = "model"  # the plain `export` of a just-imported project: its model's code, said so below
        print(f"note: {NO_DATASET} Until then export writes the model's code alone (as --format model).")
    out = Path(args.output) if args.output else default_output(args.project, fmt)
    try:
        result = export(project, fmt, out, args.weights, project_path=args.project, overwrite=args.force)
    except UntrainableError as exc:  # the network's problems, as check says them: exit 1 as check does
        print(f"torchcanvas: error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {result.path} ({result.details}).")
    return 0


def _window_size(text: str) -> tuple[int, int]:
    """'1280x800' -> (1280, 800); argparse turns the ValueError into a plain usage message."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise argparse.ArgumentTypeError(f"expected a window size such as 1280x800, not {text!r}")
    if not all(MIN_WINDOW_SIDE <= int(side) <= MAX_WINDOW_SIDE for side in (width, height)):
        raise argparse.ArgumentTypeError(
            f"{text!r}: each side of the window must be from {MIN_WINDOW_SIDE} to {MAX_WINDOW_SIDE} pixels"
        )
    return int(width), int(height)


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchcanvas", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", nargs="?", help="project file to open (default: the Digits MLP example)")
    parser.add_argument("--screenshot", metavar="FILE", help="render the main window to a PNG (1600x1000) and exit")
    parser.add_argument("--train-epochs", type=int, metavar="N", help="with --screenshot: train N epochs first")
    parser.add_argument(
        "--size", type=_window_size, metavar="WxH", help="with --screenshot: the window size (default 1600x1000)"
    )
    parser.add_argument("--version", action="version", version=f"torchcanvas {__version__}")
    from importlib.util import find_spec  # finds the module without importing it

    others = [name for name, module in COMMAND_MODULES.items() if name in COMMANDS or find_spec(module)]
    names = [*(name for name in COMMANDS if name not in COMMAND_MODULES), *others]  # the same order every time
    parser.epilog = "commands: " + ", ".join(names) + " (torchcanvas COMMAND --help for details)"
    return parser


def main(argv: list[str] | None = None, open_gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run a subcommand, or hand the parsed GUI arguments to ``open_gui`` (core never imports the GUI itself;
    the ``torchcanvas`` console script in ``gui.shell.launch`` passes it in)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMAND_MODULES:
        _load_command(COMMAND_MODULES[argv[0]])
    if argv and argv[0] in COMMANDS:
        configure, run = COMMANDS[argv[0]]
        sub = argparse.ArgumentParser(prog=f"torchcanvas {argv[0]}")
        configure(sub)
        args = sub.parse_args(argv[1:])
        return run_guarded(run, args)
    parser = _gui_parser()
    args = parser.parse_args(argv)
    if open_gui is None:
        parser.print_help()
        return 0
    return open_gui(args)


def run_guarded(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """The one boundary between a subcommand and the terminal: every error becomes one plain line and an exit
    code (2: a problem with the input or a file, 1: anything else), never a traceback. An unexpected exception
    (a bug) has its traceback appended to a log file, which the line names."""
    try:
        return run(args)
    except TorchCanvasError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("torchcanvas: stopped (Ctrl+C).", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{where}{explain_os_error(exc)}")
    except MemoryError:
        print("torchcanvas: error: out of memory; try a smaller batch size, network or dataset.", file=sys.stderr)
        return 1
    except Exception as exc:
        log = append_traceback(exc, "cli-errors.log", "torchcanvas " + " ".join(sys.argv[1:])[:500])
        details = f"; the details are in {log}" if log else ""
        print(
            f"torchcanvas: error: unexpected {type(exc).__name__}: {str(exc)[:300]} (a bug in TorchCanvas{details})",
            file=sys.stderr,
        )
        return 1


def _load_command(module: str) -> None:
    """Import one subcommand's module; a module left out of this copy is no error (its name is then unknown)."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


if __name__ == "__main__":
    sys.exit(main())
