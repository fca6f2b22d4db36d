"""The one line-wrapping helper of generated code: long calls wrapped the way ``ruff format`` wraps them, so every
generated file passes ``ruff format --check`` unchanged, and a trailing comment placed where it fits.

``call_lines`` wraps a call whose arguments are known (``head(args)tail``), ``wrap`` one given as text; both follow
the same rule: one line if it fits; else the arguments on one indented line; else one argument per line, each
wrapped again.
"""

from __future__ import annotations

LINE_LENGTH = 88  # ruff's default, which the generated files are checked with


def call_lines(indent: str, head: str, args: list[str], tail: str = "", brackets: str = "()") -> list[str]:
    """``head(args)tail`` wrapped the way ruff format would wrap it (``brackets="[]"``: a list)."""
    opening, closing = brackets[0], brackets[1]
    one = f"{indent}{head}{opening}{', '.join(args)}{closing}{tail}"
    if len(one) <= LINE_LENGTH or not args:
        return [one]
    inner = indent + "    "
    middle = inner + ", ".join(args)
    if len(middle) <= LINE_LENGTH:
        return [f"{indent}{head}{opening}", middle, f"{indent}{closing}{tail}"]
    lines = [f"{indent}{head}{opening}"]
    for arg in args:
        lines += wrap(inner, "", arg, ",")
    return [*lines, f"{indent}{closing}{tail}"]


def assign_lines(head: str, expr: str, indent: str = "        ") -> list[str]:
    """``head + expr`` wrapped as ruff format wraps nested calls."""
    return wrap(indent, head, expr, "")


def wrap(indent: str, head: str, expr: str, tail: str) -> list[str]:
    """``head + expr + tail`` where ``expr`` is a call's text: wrapped as ``call_lines`` wraps it."""
    one = f"{indent}{head}{expr}{tail}"
    name, paren, rest = expr.partition("(")
    if len(one) <= LINE_LENGTH or not paren or not rest.endswith(")"):
        return [one]
    args = split_args(rest[:-1])
    if not args:
        return [one]
    return call_lines(indent, head + name, args, tail)


def with_comment(lines: list[str], comment: str) -> list[str]:
    """``# comment`` after a single line when it fits there, else on a line of its own above the lines."""
    if not comment:
        return lines
    if len(lines) == 1 and len(lines[0]) + len(comment) + 4 <= LINE_LENGTH:
        return [f"{lines[0]}  # {comment}"]
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    return [f"{indent}# {comment}", *lines]


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's argument text (commas inside brackets or strings are not
    separators)."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts
