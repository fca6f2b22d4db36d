"""A few-shot spec's step after the source's lines (``SPEC:classes=5-9,per_class=20``):
only the classes it keeps, renumbered 0, 1, ..., and PER_CLASS samples of each, drawn
with the seed as the app draws them. ``core.code.script_data`` pastes the body into
``load_data``, its ``return`` giving ``raw``.
"""

from __future__ import annotations

from core.code.templates.script_names import SEED
from core.portable.subsets import keep_classes

# the script's constants (core.code.script_data writes them)
CLASSES: list = []  # the classes kept ([]: all)
PER_CLASS = 0  # samples of each class (0: all)
SPEC = "digits:per_class=5"  # a placeholder: the spec, named by the script's errors


def kept(raw: tuple) -> tuple:
    """The classes and samples the spec keeps of ``raw``."""
    return keep_classes(raw, CLASSES, PER_CLASS, SEED, SPEC)
