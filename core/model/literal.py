"""Python source for a validated parameter value.

It sits in ``core.model`` rather than beside the code generator because the layer kinds' Keras mappings
(``core.model.kinds``) write values too, and ``core.model`` never imports ``core.code``; the code generator
re-exports both names.
"""

from __future__ import annotations

from typing import Any

from core.errors import GraphError


class CodegenError(GraphError):
    """The graph has problems, so no code can be generated; the message lists them."""


def literal(value: Any) -> str:
    """Python source for a validated parameter value (ints, floats, bools, None, short strings, int lists)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, str):
        if not value.isascii() or not value.replace("_", "").isalnum():
            raise CodegenError(f"Refusing to emit the string value {value!r}.")
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    raise CodegenError(f"Refusing to emit a value of type {type(value).__name__}.")
