"""The import lines of a generated file, collected from the names its code reads (``ast``), never from a search
of its text for substrings: a docstring that says "one batch at a time." imports nothing.

Both training scripts (PyTorch and Keras) list the imports they may need; ``used_imports`` keeps those whose name
the finished code uses and writes them in the order ruff's isort wants.
"""

from __future__ import annotations

import ast
import inspect
import sys
from typing import Any

from core.model.pyparse import parse


def module_imports(helpers: list[Any]) -> list[str]:
    """The import lines of the modules the helpers are pasted from, one name each (``from x import a``)."""
    lines: list[str] = []
    for module in {inspect.getmodule(h) for h in helpers}:
        if module is None:
            continue
        for node in parse(inspect.getsource(module)).body:
            if isinstance(node, ast.Import):
                lines += [ast.unparse(ast.Import(names=[alias])) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                lines += [f"from {node.module} import {ast.unparse(alias)}" for alias in node.names]
    return lines


def _bound(line: str) -> tuple[str, str]:
    """(module, the name an import line binds): ``import torch.nn.functional as F`` -> ("torch.nn.functional", "F")."""
    node = parse(line).body[0]
    assert isinstance(node, (ast.Import, ast.ImportFrom))
    alias = node.names[0]
    if isinstance(node, ast.ImportFrom):
        return node.module or "", alias.asname or alias.name
    return alias.name, alias.asname or alias.name.split(".")[0]


def used_names(code: str) -> set[str]:
    """The global names the code reads (``ast.Name``; an attribute's own name is not one). A name a function
    binds itself is its own: ``make_shapes``' local ``dist`` needs no ``torch.distributed``, a helper's
    ``from sklearn import datasets`` inside its body no torchvision ``datasets``."""
    used: set[str] = set()
    for statement in parse(code).body:
        names = [n for n in ast.walk(statement) if isinstance(n, ast.Name)]
        local = {
            (a.asname or a.name).split(".")[0]
            for n in ast.walk(statement)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):  # its own variables
            local |= {n.id for n in names if not isinstance(n.ctx, ast.Load)}
            local |= {n.arg for n in ast.walk(statement) if isinstance(n, ast.arg)}
        used |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - local
    return used


def used_imports(candidates: list[str] | tuple[str, ...], body: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """The candidate imports whose name ``body`` uses (not those in ``skip``), as ruff's isort sorts them: the
    standard library, a blank line, the rest; ``import x`` before ``from x import y``; names of one module joined."""
    used = used_names(body) - skip
    plain: dict[str, str] = {}
    froms: dict[str, set[str]] = {}
    for line in candidates:
        module, name = _bound(line)
        if name not in used or module.startswith(("core.", "__future__")):
            continue
        if line.startswith("from "):
            froms.setdefault(module, set()).add(line.split(" import ", 1)[1])
        else:
            plain[line] = module

    def section(stdlib: bool) -> list[str]:
        def ours(module: str) -> bool:
            return (module.split(".")[0] in sys.stdlib_module_names) == stdlib

        lines = [line for line, module in sorted(plain.items(), key=lambda i: i[1].lower()) if ours(module)]
        lines += [
            f"from {m} import {', '.join(sorted(froms[m], key=str.lower))}"
            for m in sorted(froms, key=str.lower)
            if ours(m)
        ]
        return lines

    first, second = section(True), section(False)
    return [*first, *([""] if first and second else []), *second]
