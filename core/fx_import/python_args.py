"""--args written as Python keyword arguments, for a constructor that takes an object JSON cannot give
(nanoGPT's ``GPT(config)``): ``config=GPTConfig(n_layer=2, n_head=2, n_embd=64)``. Nothing is evaluated as
Python: the text is parsed, and only literals (numbers, strings, True/False/None, lists, tuples, dicts, a minus
sign) and calls of classes the model's own file defines are built, after the file has run."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from core.fx_import.trace import ModelImportError

MAX_NODES = 2_000  # a constructor's arguments are short; a hostile text is not evaluated node by node forever


@dataclass(frozen=True)
class PythonArgs:
    """The parsed call ``f(<text>)``: positional and keyword arguments still to build in the file's namespace."""

    text: str
    call: ast.Call


def parse_python_args(text: str) -> PythonArgs | None:
    """The arguments if ``text`` reads as a call's arguments (``2, hidden=3``, ``config=Cfg(n=2)``), else None."""
    try:
        tree = ast.parse(f"f({text})", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    call = tree.body
    if not isinstance(call, ast.Call) or sum(1 for _ in ast.walk(call)) > MAX_NODES:
        return None
    return PythonArgs(text, call)


def build_args(args: PythonArgs, namespace: dict[str, Any], module_name: str) -> list[Any] | dict[str, Any]:
    """A list (positional only) or a dict (keywords only): the form the importer calls the class with."""
    positional = [_value(a, args, namespace, module_name) for a in args.call.args]
    keywords = {k.arg: _value(k.value, args, namespace, module_name) for k in args.call.keywords if k.arg}
    if any(k.arg is None for k in args.call.keywords) or any(isinstance(a, ast.Starred) for a in args.call.args):
        raise _refuse(args, "`*` and `**` are not read")
    if positional and keywords:
        raise _refuse(args, "give the arguments either all by position or all by name")
    return keywords if keywords else positional


def _value(node: ast.AST, args: PythonArgs, namespace: dict[str, Any], module_name: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    number = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
    if number and type(node.operand.value) in (int, float):  # type: ignore[attr-defined]
        return -node.operand.value  # type: ignore[attr-defined]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(e, args, namespace, module_name) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {
            _value(k, args, namespace, module_name): _value(v, args, namespace, module_name)  # type: ignore[arg-type]
            for k, v in zip(node.keys, node.values, strict=True)
        }
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        cls = namespace.get(node.func.id)
        if not (isinstance(cls, type) and cls.__module__ == module_name):
            raise _refuse(args, f"`{node.func.id}` is not a class the model's file defines")
        if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
            raise _refuse(args, "`*` and `**` are not read")
        positional = [_value(a, args, namespace, module_name) for a in node.args]
        keywords = {k.arg: _value(k.value, args, namespace, module_name) for k in node.keywords if k.arg}
        try:
            return cls(*positional, **keywords)
        except Exception as exc:
            raise _refuse(args, f"{node.func.id}(...) failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    code = ast.get_source_segment(f"f({args.text})", node) or type(node).__name__
    raise _refuse(args, f"`{code[:80]}` is not a literal or a call of a class from the model's file")


def _refuse(args: PythonArgs, why: str) -> ModelImportError:
    text = args.text if len(args.text) <= 200 else args.text[:197] + "..."
    return ModelImportError(
        [
            f"--args {text!r}: {why}. Give numbers, strings, lists and calls of the file's own classes, e.g. "
            "'config=GPTConfig(n_layer=2, n_head=2)', or a JSON list such as '[10]'."
        ]
    )
