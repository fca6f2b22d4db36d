"""The fixed text of the generated training script, kept as real Python rather than as
strings in the generator.

Each module here holds functions exactly as a generated script contains them, so
``ruff check .`` lints them (at the generated files' line length: ``ruff.toml`` here),
``ruff format`` keeps them in the layout the script needs and mypy checks their types.
The generator takes a function's text with ``function_lines``, which reads the file with
``ast`` and never imports it: writing a script needs no torch import. The names a
template reads that the script binds itself (``LEARNING_RATE``, ``make_optimizer``)
come from ``script_names``, for the linters only: imports and anything else outside the
functions are never copied into a script.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from core.model.pyparse import parse

FOLDER = Path(__file__).resolve().parent


@functools.cache
def _functions(module: str) -> dict[str, tuple[str, ...]]:
    """name -> the lines of each top-level function of ``module``, a file here."""
    text = (FOLDER / f"{module}.py").read_text(encoding="utf-8")
    lines = text.splitlines()
    found: dict[str, tuple[str, ...]] = {}
    for node in parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.end_lineno is not None:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found[node.name] = tuple(lines[start - 1 : node.end_lineno])
    return found


def function_lines(module: str, name: str) -> list[str]:
    """The function ``name`` of the template ``module`` as the script has it."""
    try:
        return list(_functions(module)[name])
    except KeyError:
        where = f"core/code/templates/{module}.py"
        raise KeyError(f"no function {name!r} in {where}") from None
