"""Where the model comes from: ``path/to/file.py:ClassName`` (the file is run: only ever the one the user chose)
or ``torchvision:NAME`` (built without downloading weights), with constructor arguments from ``--args``; and a
weights file (``.pt``/``.pth`` read with ``weights_only=True``, or ``.safetensors``)."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import io
import json
import shlex
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from core.errors import ExportError
from core.files.weights import read_weights
from core.fx_import.python_args import PythonArgs, build_args, parse_python_args
from core.fx_import.trace import ModelImportError, user_frame

# the name a model file is run under (a name of its own: two files may both be model.py); the file is its __file__
IMPORTED_MODULE = "torchcanvas_import_"

Args = list[Any] | dict[str, Any] | PythonArgs

DEFAULT_IMAGE_SHAPE = [3, 224, 224]
MAX_SIZE = 100_000  # one size of --input-shape
MAX_ARGS_DEPTH = 32  # levels of lists / objects in --args; a constructor argument is a number, a list or a dict
# Auxiliary classifiers run only in training mode, so a drawing of the eval-mode forward would lose their weights:
# these are built without them unless --args says otherwise.
WITHOUT_AUX = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}


def parse_shape(text: str) -> list[int]:
    """``"3,224,224"`` -> [3, 224, 224]; a plain message for anything else."""
    try:
        dims = [int(part) for part in text.replace("x", ",").split(",") if part.strip()]
    except ValueError:
        dims = []
    if not dims or len(dims) > 4:
        raise ModelImportError(
            [f"--input-shape {text!r}: give one sample's shape as 1 to 4 whole numbers, e.g. 3,224,224."]
        )
    wrong = [d for d in dims if d < 1 or d > MAX_SIZE]
    if wrong:
        raise ModelImportError(
            [
                f"--input-shape {text!r}: {wrong[0]} {'is too large' if wrong[0] > 1 else 'is not a size'}; each "
                "size is a whole number from 1 to "
                f"{MAX_SIZE:,} (the channels, then the height and width: 3,224,224)."
            ]
        )
    return dims


def parse_shapes(text: str) -> list[list[int]]:
    """``"3,32,32;10"`` -> [[3, 32, 32], [10]]: one sample's shape per input of forward."""
    return [parse_shape(part) for part in text.split(";") if part.strip()] or [parse_shape(text)]


def parse_args(text: str | None) -> Args:
    """--args: a JSON list (positional arguments) or object (keyword arguments: '{"num_classes": 10}'), or Python
    arguments that may call the file's own classes ('config=GPTConfig(n_layer=2)', see python_args)."""
    if not text:
        return []
    deep = f"--args is nested too deeply (more than {MAX_ARGS_DEPTH} levels): give the constructor's arguments"
    too_deep = ModelImportError([f"{deep}, e.g. '[10]'."])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        python = parse_python_args(text)  # 'config=GPTConfig(n_layer=2)': built once the file has run
        if python is not None:
            return python
        raise ModelImportError(
            [
                f"--args is not JSON ({exc.msg}) nor Python arguments: give a list, e.g. '[10]' or '[]', or "
                "keywords, e.g. 'num_classes=10'."
            ]
        ) from None
    except RecursionError:  # Python's JSON reader recurses once per level: '[[[[...' 100,000 deep exhausts it
        raise too_deep from None
    if not isinstance(value, (list, dict)):
        raise ModelImportError(["--args must be a JSON list (or object) of the constructor's arguments, e.g. '[10]'."])
    if _depth(value) > MAX_ARGS_DEPTH:  # shallower ones still overflow later (printing them in a message)
        raise too_deep
    return value


def parse_argv(text: str | None) -> list[str]:
    """--argv '--dataset fake --niter 0': split as a shell would, without running one."""
    try:
        return shlex.split(text or "")
    except ValueError as exc:
        raise ModelImportError([f"--argv {text!r} cannot be split into arguments ({exc}): close its quotes."]) from None


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``, without recursing (a hostile value is deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if level <= MAX_ARGS_DEPTH:
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def torchvision_names(segmentation: bool = False) -> list[str]:
    # deferred: torchvision takes a second to import, and a model from the user's own file needs none of it
    from torchvision import models

    return sorted(models.list_models(module=models.segmentation if segmentation else models))


def load_source(source: str, args: Args | None = None, argv: list[str] | None = None) -> nn.Module:
    """The module named by ``source``; ModelImportError with the file, the line and what to do otherwise. ``argv``
    is the file's own command line (--argv): a file that parses it at import time (``--dataset`` required) runs."""
    args = args or ({} if source.startswith("torchvision.segmentation:") else [])
    segmentation = source.startswith("torchvision.segmentation:")
    if segmentation or source.startswith("torchvision:"):  # literals only: no class of a user's file to call
        plain = build_args(args, {}, "") if isinstance(args, PythonArgs) else args
        return _torchvision(source.split(":", 1)[1], plain, segmentation=segmentation)
    path_text, sep, class_name = source.rpartition(":")
    if not sep or not path_text.endswith(".py") or not class_name.isidentifier():
        raise ModelImportError(
            [f"{source!r}: give the model as path/to/file.py:ClassName or torchvision:NAME (torchvision:resnet18)."]
        )
    return _from_file(Path(path_text), class_name, args, list(argv or []))


def _call(cls: Any, args: list[Any] | dict[str, Any], **extra: Any) -> Any:
    return cls(**args, **extra) if isinstance(args, dict) else cls(*args, **extra)


def _torchvision(name: str, args: list[Any] | dict[str, Any], segmentation: bool = False) -> nn.Module:
    # deferred: torchvision takes a second to import, and a model from the user's own file needs none of it
    from torchvision import models

    names = torchvision_names(segmentation)
    if name not in names:
        close = [n for n in names if n.startswith(name[:3])][:8]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        what = "segmentation" if segmentation else "classification"
        raise ModelImportError([f"torchvision has no {what} model {name!r}.{hint}"])
    if segmentation and isinstance(args, dict):
        args = {"weights_backbone": None, **args}  # built without downloading the backbone's weights either
    if name in WITHOUT_AUX and not args:
        args = dict(WITHOUT_AUX[name])
    try:
        return _call(models.get_model_builder(name), args, weights=None)  # type: ignore[no-any-return]
    except Exception as exc:
        raise ModelImportError([f"torchvision:{name} could not be built: {str(exc)[:300]}"]) from None


def _from_file(path: Path, class_name: str, given: Args, argv: list[str]) -> nn.Module:
    if not path.is_file():
        raise ModelImportError([f"There is no Python file {path}."])
    module_name = f"{IMPORTED_MODULE}{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModelImportError([f"{path} cannot be read as a Python file."])
    code = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = code  # dataclasses and pickling look the module up by name
    try:
        _run(path, argv, spec.loader.exec_module, code)
    except ModelImportError:
        sys.modules.pop(module_name, None)
        raise
    except SyntaxError as exc:  # raised where Python compiles the file: its own filename, line and text say where
        sys.modules.pop(module_name, None)
        raise ModelImportError([_syntax_message(path, exc)]) from None
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = user_frame(traceback.extract_tb(exc.__traceback__))
        raise ModelImportError(
            [f"Running {path} failed{f' at {line}' if line else ''}: {type(exc).__name__}: {exc}"]
        ) from None
    args: list[Any] | dict[str, Any] = (
        _run(path, argv, build_args, given, vars(code), module_name) if isinstance(given, PythonArgs) else given
    )
    cls = getattr(code, class_name, None)
    is_class = isinstance(cls, type) and issubclass(cls, nn.Module)
    if not is_class and not _is_builder(cls):  # ResNet18(): published files often build their models in functions
        found = sorted(
            n
            for n, v in vars(code).items()
            if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module_name
        )
        listing = f" Its nn.Module classes: {', '.join(found)}." if found else " It defines no nn.Module class."
        raise ModelImportError([f"{path} has no nn.Module class {class_name}.{listing}"])
    _check_arguments(path, cls, class_name, args)
    try:
        made = _run(path, argv, _call, cls, args)
    except ModelImportError:
        raise
    except Exception as exc:
        line = user_frame(traceback.extract_tb(exc.__traceback__))
        raise ModelImportError(
            [
                f"{_call_text(class_name, args)} failed{f' at {line}' if line else ''}: {exc}. "
                "Give its constructor arguments with --args as a JSON list, e.g. '[10]'."
            ]
        ) from None
    if not isinstance(made, nn.Module):
        raise ModelImportError(
            [f"{path}: {class_name}() gives a {type(made).__name__}, not an nn.Module: name the model's class."]
        )
    return made


def _syntax_message(path: Path, exc: SyntaxError) -> str:
    """``my models/net.py, line 2: SyntaxError: expected ':' (`class Net(nn.Module)`)``: the user's file (or the
    file it imports that holds the mistake), never TorchCanvas's frame that ran it."""
    where = f"{exc.filename or path}" + (f", line {exc.lineno}" if exc.lineno else "")
    code = (exc.text or "").strip()
    return (
        f"{where}: {type(exc).__name__}: {exc.msg}" + (f" (`{code[:200]}`)" if code else "") + ". Fix the file and "
        "import it again (python FILE shows the same mistake)."
    )


def _run(path: Path, argv: list[str], function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` as if the user's file were run with only ``argv`` (--argv): a clean ``sys.argv`` (a file
    that parses its command line at import time must not see TorchCanvas's), and ``sys.exit()`` or an argparse error
    there is a message instead of the end of the app. What the file writes to stderr is passed on."""
    saved, errors = sys.argv, io.StringIO()
    sys.argv = [str(path), *argv]
    try:
        with contextlib.redirect_stderr(errors):
            return function(*args)
    except SystemExit as exc:
        said = [line.strip() for line in errors.getvalue().splitlines() if line.strip()]
        errors = io.StringIO()  # its usage text is in the message, not printed again
        why = f" ({said[-1][:200]})" if said else ""
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        at = f" at line {frames[-1].lineno} (`{(frames[-1].line or '').strip()}`)" if frames else ""
        raise ModelImportError(
            [
                f"{path} stops the program (sys.exit({exc.code!r})){at} when it is run{why}. TorchCanvas runs the "
                f"file with {_argv_text(argv)}: give the file's own arguments with --argv (e.g. --argv "
                "'--dataset fake'), or move the argument parsing and the training under "
                '`if __name__ == "__main__":`, or put the model\'s class in a file of its own.'
            ]
        ) from None
    finally:
        sys.argv = saved
        sys.stderr.write(errors.getvalue())


def _argv_text(argv: list[str]) -> str:
    return f"the command-line arguments {shlex.join(argv)[:200]!r}" if argv else "no command-line arguments"


def _is_builder(value: Any) -> bool:
    """A function that builds the model (``def ResNet18(): return ResNet(...)``), or a ``partial`` of one."""
    return inspect.isfunction(value) or isinstance(value, functools.partial)


def _check_arguments(path: Path, cls: Any, class_name: str, args: list[Any] | dict[str, Any]) -> None:
    """Refuse arguments that do not fit the class's ``__init__``, naming the user's file, class and line and what
    it takes (the call itself would fail inside TorchCanvas, and the message would point there)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to read: the call will say what is wrong
        return
    try:
        signature.bind(**args) if isinstance(args, dict) else signature.bind(*args)
    except TypeError as exc:
        try:
            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            line = getattr(getattr(vars(cls).get("__init__"), "__code__", None), "co_firstlineno", 0)
        where = f"{path}:{line}" if line else str(path)
        given = "without --args" if not args else f"with --args {_text(args)}"
        name = next(iter(signature.parameters), "name")
        raise ModelImportError(
            [
                f"{where}: class {class_name} takes {class_name}{signature}; {given}: {exc}. Give its constructor "
                f"arguments with --args as a JSON list ('[10]') or object ('{{\"{name}\": 10}}')."
            ]
        ) from None


def _text(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=repr)  # a config object given with Python --args: its repr
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call_text(class_name: str, args: list[Any] | dict[str, Any]) -> str:
    """``Tiny(1, 2)`` or ``Tiny(hidden=3)``, shortened."""
    if isinstance(args, dict):
        inner = ", ".join(f"{key}={_text(value, 60)}" for key, value in args.items())
    else:
        inner = ", ".join(_text(value, 60) for value in args)
    return f"{class_name}({inner if len(inner) <= 200 else inner[:197] + '...'})"


def read_state(path: str | Path) -> dict[str, Any]:
    """A state_dict from .pt/.pth (no code runs: weights_only) or .safetensors."""
    try:
        return read_weights(path).state
    except ExportError as exc:
        raise ModelImportError([str(exc)]) from None
