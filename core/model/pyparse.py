"""``ast.parse`` that survives other threads parsing at the same time.

CPython 3.11 converts a parsed tree to Python objects with one recursion counter per interpreter (gh-106905), so
two threads parsing at once can fail with "SystemError: AST constructor recursion depth mismatch". The window
generates the training script on the training thread while other threads import libraries that parse source:
our own parses share a lock, and a clash with another library's parse is tried again (the counter is reset at
the start of every parse, so a second try is clean).
"""

from __future__ import annotations

import ast
import threading
import time

_LOCK = threading.Lock()
_TRIES = 5


def parse(source: str) -> ast.Module:
    for attempt in range(_TRIES):
        try:
            with _LOCK:
                return ast.parse(source)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == _TRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
