"""The names a generated file gives blocks' classes and their constructor arguments.

A block definition is named by the user, but its class shares the file with ``Net``, the helpers' classes and,
in a script, ``main()`` and the loaders: a name must never shadow one of them, and one choice must hold for the
whole file (the class, every call of it, the script's weight-transfer lines). So the names are chosen once per
generation (``code_names``) and read wherever code is written, apart from how the expressions inside a class are
computed (``core.code.codegen_blocks``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from core.model.blocks import BlockDef
from core.model.names import code_name

# The names this generation gives the blocks' classes (definition name -> class name) and every other name the file
# binds at module level. A definition keeps its name unless the file needs it (a block named ``main`` in a script
# that defines ``main()``, or ``super`` from an old file): then its class takes the nearest free name. Argument
# names likewise never shadow those, the helpers' classes or ``in_channels``.
_NAMES: ContextVar[tuple[dict[str, str], frozenset[str]] | None] = ContextVar("block_names", default=None)
IN_CHANNELS = frozenset({"in_channels", *(f"in_channels{i}" for i in range(1, 17))})


@contextmanager
def code_names(library: dict[str, BlockDef], taken: set[str]) -> Iterator[None]:
    """Name the classes of ``library``'s definitions for one generation of a file that binds ``taken``."""
    used = set(taken)
    classes: dict[str, str] = {}
    for name in sorted(library, key=lambda n: code_name(n, used) != n):  # clean names first, then the renamed
        classes[name] = code_name(name, used)
        used.add(classes[name])
    token = _NAMES.set((classes, frozenset(used)))
    try:
        yield
    finally:
        _NAMES.reset(token)


def class_name(defn: BlockDef) -> str:
    """The name of ``defn``'s class in the code being generated."""
    names = _NAMES.get()
    return names[0].get(defn.name, defn.name) if names is not None else defn.name


def arg_names(defn: BlockDef) -> dict[str, str]:
    """Each argument's name in the code of ``defn``'s class (its own name unless that would shadow something)."""
    names = _NAMES.get()
    used = set(IN_CHANNELS) | (set(names[1]) if names is not None else set())
    found: dict[str, str] = {}
    for item in defn.args:
        found[item.name] = code_name(str(item.name), used)
        used.add(found[item.name])
    return found


def bound_names() -> frozenset[str]:
    """Every name the file being generated binds at module level (none outside a generation)."""
    names = _NAMES.get()
    return names[1] if names is not None else frozenset()
