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

A line may end in a tag, ``  # [amp]``, ``  # [!amp clip]``: it is kept only when each
flag the generator passes holds (``!``: does not hold), and the tag is dropped. A tagged
line that opens a block (``if distributed:  # [dist]``) keeps or drops its block too.
Brackets holding one tagged item a line (parameters) are wrapped again once the items
are picked, as ruff format would wrap them (``core.code.line_wrap.call_lines``).
``fill`` puts the project's values in place of a placeholder the template declares
(``*AUGMENT``).
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
    for key, text in (fill or {}).items():
        lines = [line.replace(key, text) for line in lines]
    return lines if flags is None else picked(lines, flags)


def tags(line: str) -> list[str]:
    """The flags a template line's tag names, ``!`` kept: [] when it has none."""
    found = TAG.search(line)
    return found[1].split() if found else []


def _kept(line: str, flags: Mapping[str, bool]) -> bool:
    try:
        return all(flags[t.lstrip("!")] != t.startswith("!") for t in tags(line))
    except KeyError as exc:
        raise KeyError(f"no flag {exc} given for the template line {line!r}") from None


def picked(lines: list[str], flags: Mapping[str, bool]) -> list[str]:
    """The lines whose tags (and whose tagged blocks' tags) hold, tags dropped; brackets
    with tagged items wrapped again."""
    out: list[str] = []
    blocks: list[tuple[int, bool]] = []  # (indent, kept) of each open tagged block
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        while line.strip() and blocks and indent <= blocks[-1][0]:
            blocks.pop()
        keep = all(kept for _, kept in blocks) and _kept(line, flags)
        code = TAG.sub("", line)
        if tags(line) and code.endswith(":"):
            blocks.append((indent, keep))
        end = _closing(lines, i) if keep else None
        if end is not None:  # one item a line between brackets
            items = lines[i + 1 : end]
            if any(tags(item) for item in items):
                items = [item for item in items if _kept(item, flags)]
                args = [TAG.sub("", item).strip().removesuffix(",") for item in items]
                tail = lines[end][indent + 1 :]
                out += call_lines(
                    code[:indent],
                    code.strip()[:-1],
                    args,
                    tail,
                    code[-1] + lines[end][indent],
                )
                i = end + 1
                continue
        if keep:
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
