"""A call's argument as the model uses it in training, read from the source line the trace recorded.

The import traces in eval mode, so ``dropout_p=self.dropout if self.training else 0`` (nanoGPT) is traced as 0:
the drawing would train without the dropout the model was written with. The written expression says what
training uses: ``self.x if self.training else 0`` is the module's own ``x``. An expression that cannot be read
so is said in a note instead of being drawn silently as its eval value.
"""

from __future__ import annotations

import ast
import functools
import linecache
from dataclasses import dataclass
from typing import Any

from torch import fx, nn

from core.fx_import.trace import node_line, node_place
from core.model.pyparse import parse


@dataclass
class Written:
    """What training uses: ``value`` when it could be read (None: the expression, ``text``, could not)."""

    value: float | None
    text: str


def training_value(node: fx.Node, call: str, name: str, position: int) -> Written | None:
    """The number ``name`` (the ``position``-th argument of ``call``) takes in training, or None when the line
    cannot be found again or does not write the argument (then the traced value is what every mode uses)."""
    place = node_place(node)
    if place is None:
        return None
    expr = _argument(_calls(place[0]), call, place[1], name, position)
    if expr is None or isinstance(expr, ast.Constant):
        return None
    text = ast.unparse(expr)
    if isinstance(expr, ast.IfExp):
        trains = _training_test(expr.test)
        if trains is not None:
            expr = expr.body if trains else expr.orelse
    value = expr.value if isinstance(expr, ast.Constant) else _read(_owner(node), expr)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Written(float(value), text)
    return Written(None, text)


def _read(owner: Any, expr: ast.expr) -> Any:
    """``self.dropout`` or ``self.config.dropout`` read on the module that made the call; None for the rest."""
    names: list[str] = []
    while isinstance(expr, ast.Attribute):
        names.insert(0, expr.attr)
        expr = expr.value
    if owner is None or not names or not (isinstance(expr, ast.Name) and expr.id == "self"):
        return None
    for name in names:
        owner = getattr(owner, name, None)
    return owner


def unread_note(node: fx.Node, what: str, text: str, traced: float) -> None:
    """A note on the import: ``what`` is written as ``text``, which the drawing holds as its traced value."""
    owner = node.graph.owning_module
    if owner is None:
        return
    line = node_line(node)
    note = (
        f"{what} is written `{text}`{f' at {line}' if line else ''}: the drawing holds {traced:g}, its value when "
        "traced in eval mode. If training uses another value, set it on that layer."
    )
    notes = owner.meta.setdefault("notes", [])
    if note not in notes:  # a repeated block makes the same call on the same line
        notes.append(note)


def _training_test(test: ast.expr) -> bool | None:
    """True for ``self.training``, False for ``not self.training``, None for any other condition."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _training_test(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.Attribute) and test.attr == "training" and isinstance(test.value, ast.Name):
        return True if test.value.id == "self" else None
    return None


def _owner(node: fx.Node) -> Any:
    """The module whose forward made the call (``self`` on its line)."""
    root = node.graph.owning_module
    original = root.meta.get("original", root) if root is not None else None
    stack = list((node.meta.get("nn_module_stack") or {}).values())
    if not isinstance(original, nn.Module):
        return None
    if not stack:
        return original
    try:
        return original.get_submodule(str(stack[-1][0]))
    except AttributeError:
        return None


def _argument(calls: tuple[ast.Call, ...], call: str, line: int, name: str, position: int) -> ast.expr | None:
    """The innermost call of ``call`` spanning ``line``, and its argument ``name`` as written."""
    spanning = [c for c in calls if _name(c.func) == call and c.lineno <= line <= (c.end_lineno or c.lineno)]
    if not spanning:
        return None
    found = max(spanning, key=lambda c: (c.lineno, c.col_offset))
    for keyword in found.keywords:
        if keyword.arg == name:
            return keyword.value
    return found.args[position] if len(found.args) > position else None


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _calls(filename: str) -> tuple[ast.Call, ...]:
    return _calls_in("".join(linecache.getlines(filename)))


@functools.lru_cache(maxsize=8)
def _calls_in(source: str) -> tuple[ast.Call, ...]:
    try:
        tree = parse(source)
    except (SyntaxError, ValueError):
        return ()
    return tuple(n for n in ast.walk(tree) if isinstance(n, ast.Call))
