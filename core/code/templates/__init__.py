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

A tag keeps a statement only where the flags the generator passes hold: ``# [amp]``
after its first line, or alone on the line above it when the line is full;
``# [!amp clip]``: amp off and clip on. It keeps or drops the statement whole, block
and continuation lines included (``ast`` says where it ends), and is never copied. In
brackets holding one item a line (parameters, arguments), a tag keeps or drops its item
and the brackets are wrapped again as ruff format would wrap them
(``core.code.line_wrap.call_lines``). ``fill`` puts the project's values in place of a
placeholder the template declares (``*AUGMENT``).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from pathlib import Path

from core.code.line_wrap import call_lines
from core.model.pyparse import parse

FOLDER = Path(__file__).resolve().parent
TAG = re.compile(r"  # \[(!?\w+(?: !?\w+)*)\]$")
CLOSING = {"(": ")", "[": "]"}


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


def function_lines(
    module: str,
    name: str,
    flags: Mapping[str, bool] | None = None,
    fill: Mapping[str, str] | None = None,
) -> list[str]:
    """The function ``name`` of the template ``module`` as the script has it: the lines
    whose tags hold for ``flags``, ``fill``'s texts in place of its placeholders.
    Without flags, the template's own text (tags and all)."""
    try:
        lines = list(_functions(module)[name])
    except KeyError:
        where = f"core/code/templates/{module}.py"
        raise KeyError(f"no function {name!r} in {where}") from None
    for key, text in (fill or {}).items():  # whole names only
        whole = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)")
        lines = [whole.sub(text.replace("\\", "\\\\"), line) for line in lines]
    return lines if flags is None else picked(lines, flags)


def tags(line: str) -> list[str]:
    """The flags a template line's tag names, ``!`` kept: [] when it has none."""
    found = TAG.search(line)
    return found[1].split() if found else []


def _holds(names: list[str], flags: Mapping[str, bool], line: str) -> bool:
    try:
        return all(flags[t.lstrip("!")] != t.startswith("!") for t in names)
    except KeyError as exc:
        raise KeyError(f"no flag {exc} given for the template line {line!r}") from None


def _statement_ends(lines: list[str]) -> dict[int, int]:
    """index of a statement's first line -> index of its last, block included."""
    ends: dict[int, int] = {}
    for node in ast.walk(parse("\n".join(lines))):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            start = node.lineno - 1
            ends[start] = max(ends.get(start, start), node.end_lineno - 1)
    return ends


def picked(lines: list[str], flags: Mapping[str, bool]) -> list[str]:
    """The lines of a template function whose tags hold for ``flags``, tags dropped;
    brackets with tagged items wrapped again."""
    ends = _statement_ends(lines)
    out: list[str] = []
    pending: list[str] = []  # the tags of a line that holds only a tag: for the next
    i = 0
    while i < len(lines):
        line = lines[i]
        if TAG.fullmatch("  " + line.strip()):
            pending, i = tags("  " + line.strip()), i + 1
            continue
        names, pending = pending + tags(line), []
        if not _holds(names, flags, line):
            i = ends.get(i, i) + 1  # the statement, or the item in brackets
            continue
        code = TAG.sub("", line)
        end = _closing(lines, i)
        if end is not None and any(tags(item) for item in lines[i + 1 : end]):
            items = [
                item for item in lines[i + 1 : end] if _holds(tags(item), flags, item)
            ]
            args = [TAG.sub("", item).strip().removesuffix(",") for item in items]
            indent = len(code) - len(code.lstrip())
            brackets = code[-1] + lines[end][indent]
            out += call_lines(
                code[:indent],
                code.strip()[:-1],
                args,
                lines[end][indent + 1 :],
                brackets,
            )
            i = end + 1
            continue
        out.append(code)
        i += 1
    return out


def _closing(lines: list[str], start: int) -> int | None:
    """Where the bracket that ends ``lines[start]`` closes, when the lines between hold
    one item each (ruff format's magic trailing comma); else None."""
    code = TAG.sub("", lines[start])
    if not code.endswith(tuple(CLOSING)):
        return None
    closing = code[: len(code) - len(code.lstrip())] + CLOSING[code[-1]]
    for end in range(start + 1, len(lines)):
        if lines[end].startswith(closing):
            items = [TAG.sub("", line) for line in lines[start + 1 : end]]
            return end if all(item.endswith(",") for item in items) else None
    return None
