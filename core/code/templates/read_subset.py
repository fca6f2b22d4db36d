"""A few-shot spec's step after the source's lines (``SPEC:classes=5-9,per_class=20``):
only the classes it keeps, renumbered 0, 1, ..., and PER_CLASS samples of each, drawn
with the seed as the app draws them. ``core.code.script_data`` pastes the body into
``load_data``, its ``return`` giving ``raw``: ``kept`` after a source's own lines,
``lean_kept`` on the tensors of the short loader (core.portable.lean), which has no
class names and whose errors ``main`` prefixes with the file's name.
"""

from __future__ import annotations

from typing import Any

from core.code.templates.script_names import SEED
from core.portable.subsets import few_shot, keep_classes

# the script's constants (core.code.script_data writes them)
CLASSES: list = []  # the classes kept ([]: all)
PER_CLASS = 0  # samples of each class (0: all)
SPEC = "digits:per_class=5"  # a placeholder: the spec, named by the script's errors


def kept(raw: tuple) -> tuple:
    """The classes and samples the spec keeps of ``raw``."""
    return keep_classes(raw, CLASSES, PER_CLASS, SEED, SPEC)


def lean_kept(raw: tuple[Any, Any, Any, Any]) -> tuple:
    """The classes and samples CLASSES and PER_CLASS keep of the four tensors."""
    return few_shot(*raw, CLASSES, PER_CLASS, SEED, "CLASSES, PER_CLASS")
