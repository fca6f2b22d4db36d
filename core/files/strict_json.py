"""Strict JSON for project files: what ``json`` accepts but a project never holds is refused before it is used.

NaN and Infinity, floats that overflow, integers with hundreds of digits, a key twice in one object, nesting
deeper than any project needs, and text that is not valid Unicode each become one ``ProjectLoadError``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.errors import ProjectLoadError

MAX_DEPTH = 32  # JSON nesting; a real project needs about 6
MAX_INT_DIGITS = 40


def parse_strict(text: str, where: str) -> Any:
    """The JSON value in ``text``, or ProjectLoadError naming ``where`` and what is wrong."""
    try:
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_small_int,
            object_pairs_hook=_no_duplicates,
        )
    except RecursionError:
        raise ProjectLoadError("the file is nested too deeply to be a project", where) from None
    except ValueError as exc:
        raise ProjectLoadError(f"the file is not valid JSON ({str(exc)[:200]})", where) from None
    _check_plain(data, where)
    return data


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in a project file")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _small_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number with {len(text)} digits is too large")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return result


def _check_plain(data: Any, where: str) -> None:
    """Reject what JSON allows but a project never holds: deep nesting and text that is not valid Unicode."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProjectLoadError(f"the file is nested more than {MAX_DEPTH} levels deep", where)
        if isinstance(value, str):
            _check_text(value, where)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, where)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ProjectLoadError("the file holds text that is not valid Unicode (a lone surrogate)", where) from None
