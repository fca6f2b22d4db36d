"""Long lines of generated code wrapped the way ``ruff format`` wraps a nested call, so the generated files
pass ``ruff format --check`` unchanged."""

from __future__ import annotations


def assign_lines(head: str, expr: str, indent: str = "        ") -> list[str]:
    """``head + expr`` wrapped as ruff format wraps nested calls."""
    return wrap(indent, head, expr, "")


def wrap(indent: str, head: str, expr: str, tail: str) -> list[str]:
    """One line if it fits; else the call's arguments on one indented line; else one per line, each wrapped."""
    from core.code.codegen import LINE_LENGTH  # codegen imports this module

    one = f"{indent}{head}{expr}{tail}"
    name, paren, rest = expr.partition("(")
    if len(one) <= LINE_LENGTH or not paren or not rest.endswith(")"):
        return [one]
    args = split_args(rest[:-1])
    if not args:
        return [one]
    inner = indent + "    "
    middle = inner + ", ".join(args)
    if len(middle) <= LINE_LENGTH:
        return [f"{indent}{head}{name}(", middle, f"{indent}){tail}"]
    lines = [f"{indent}{head}{name}("]
    for arg in args:
        lines += wrap(inner, "", arg, ",")
    return [*lines, f"{indent}){tail}"]


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's argument text."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts
