"""How well the floors hold in the code itself (issue 25): function-local imports and ``Any`` annotations, per package.

An import inside a function is a doorway the reader cannot see from the top of the module; the house keeps one only
where it saves start-up time (it defers torch, scikit-learn, pyqtgraph or a module that imports them) or breaks a
named cycle, and says so in a comment. ``Any`` in an annotation often stands where a cycle was cut and a project type
erased. This counts both, so a closing note can give the figures before and after a change.

Counted, per package (``core.model``, ``gui.shell``; a top-level module counts for ``core`` or ``gui``):
- ``local_project``: function-local imports (in a function or method body, not under ``if TYPE_CHECKING:``) of a
  project module (``core.*``, ``gui.*`` or a relative import); ``local_heavy``: those of a heavy library (``HEAVY``);
  ``local_other``: the rest (standard library, light libraries);
- ``..._commented``: how many of them carry a comment on the import's lines or on the line just above it (a bare
  ``# noqa``/``# type: ignore`` pragma says nothing and does not count). Imports that follow each other (blank lines
  between them aside) share the comment above the first (one comment may speak for a group);
- ``any_annotations``: ``Any`` in an annotation (arguments, returns, annotated assignments, string annotations
  included); ``any_other``: ``Any`` anywhere else (``cast(Any, ...)``, a type alias, ``dict[str, Any]`` in a base).

Usage: ``python bench/code_floors.py [--list project|heavy|uncommented|any] [ROOT...]``; ``ROOT`` defaults to
``core gui`` in this checkout. Prints a table, then totals per root; ``--list`` prints each counted place as
``path:line: text`` (``uncommented``: local project and heavy imports without a comment).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = ("core", "gui")
# Libraries whose import takes a noticeable part of a second or more, or hundreds of MB: the ones worth deferring.
HEAVY = (
    "torch",
    "torchvision",
    "torchaudio",
    "sklearn",
    "scipy",
    "pyqtgraph",
    "pandas",
    "pyarrow",
    "matplotlib",
    "PIL",
    "onnx",
    "onnxruntime",
    "tensorflow",
    "keras",
    "h5py",
    "networkx",
    "numpy",
    "captum",
    "hypothesis",
)
KINDS = ("project", "heavy", "other")


@dataclass(frozen=True)
class LocalImport:
    path: Path
    line: int
    kind: str  # one of KINDS
    commented: bool
    text: str


@dataclass(frozen=True)
class AnyUse:
    path: Path
    line: int
    in_annotation: bool
    text: str


def package_of(path: Path, root: Path) -> str:
    """``core/model/graph.py`` -> ``core.model``; ``core/cli.py`` -> ``core``."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return ["." * node.level + (node.module or "")]
        return [node.module or ""]
    return [alias.name for alias in node.names]


def kind_of(node: ast.Import | ast.ImportFrom) -> str:
    tops = [name.split(".")[0] for name in imported_names(node)]
    if any(name.startswith(".") or top in PROJECT for name, top in zip(imported_names(node), tops, strict=True)):
        return "project"
    if any(top in HEAVY for top in tops):
        return "heavy"
    return "other"


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


PRAGMA = re.compile(r"noqa(:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*)?|type:\s*ignore(\[[^\]]*\])?|pragma:\s*no cover")


def says_why(comment: str) -> bool:
    """A comment with words beyond a tool's pragma (``# noqa: F401`` alone says nothing to a reader)."""
    return any(PRAGMA.sub("", part).strip(" :,[]") for part in comment.split("#")[1:])


def has_comment(lines: list[str], first: int, last: int) -> bool:
    """A comment on lines ``first..last`` (1-based) or a comment line just above ``first``. Imports holding a
    ``#`` inside a string are rare enough in a module's import lines not to matter here."""
    if any(says_why(lines[number - 1]) for number in range(first, last + 1)):
        return True
    return first > 1 and lines[first - 2].lstrip().startswith("#") and says_why(lines[first - 2])


def local_imports(path: Path, tree: ast.Module, lines: list[str]) -> Iterator[LocalImport]:
    def walk(node: ast.AST, in_function: bool) -> Iterator[LocalImport]:
        body_lists = [getattr(node, field) for field in ("body", "orelse", "finalbody") if hasattr(node, field)]
        if isinstance(node, ast.Try | ast.TryStar):
            body_lists += [handler.body for handler in node.handlers]
        if isinstance(node, ast.Match):
            body_lists += [case.body for case in node.cases]
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for body in body_lists:
            if not isinstance(body, list):
                continue
            group_commented = False
            previous_end = -1
            for statement in body:
                if isinstance(statement, ast.If) and is_type_checking(statement.test):
                    previous_end = -1  # a type only: loads nothing, so no doorway
                    continue
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    end = statement.end_lineno or statement.lineno
                    own = has_comment(lines, statement.lineno, end)
                    follows = previous_end != -1  # the statement before was an import too (blank lines aside)
                    group_commented = own or (follows and group_commented)
                    previous_end = end
                    if inside:
                        text = lines[statement.lineno - 1].strip()
                        yield LocalImport(path, statement.lineno, kind_of(statement), group_commented, text)
                    continue
                previous_end = -1
                group_commented = False
                yield from walk(statement, inside)

    yield from walk(tree, False)


def annotation_nodes(tree: ast.Module) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [argument for argument in (arguments.vararg, arguments.kwarg) if argument]
            yield from (argument.annotation for argument in every if argument.annotation)
            if node.returns:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def is_any(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Any") or (isinstance(node, ast.Attribute) and node.attr == "Any")


def any_names(expression: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(expression):
        if is_any(node):
            yield node
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "Any" in node.value:
            try:
                parsed = ast.parse(node.value, mode="eval")
            except SyntaxError:
                continue
            yield from (ast.copy_location(found, node) for found in any_names(parsed))


def any_uses(path: Path, tree: ast.Module, lines: list[str]) -> Iterator[AnyUse]:
    annotated: set[tuple[int, int]] = set()
    for annotation in annotation_nodes(tree):
        for found in any_names(annotation):
            line, column = found.lineno, found.col_offset
            if (line, column) not in annotated:
                annotated.add((line, column))
                yield AnyUse(path, line, True, lines[line - 1].strip())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            continue  # `from typing import Any` is no use of it
        if is_any(node) and (node.lineno, node.col_offset) not in annotated:
            yield AnyUse(path, node.lineno, False, lines[node.lineno - 1].strip())


def count(roots: list[Path], listing: str | None) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            tree = ast.parse(source, filename=str(path))
            row = table.setdefault(package_of(path, root), Counter())
            shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
            for found in local_imports(path, tree, lines):
                row[f"local_{found.kind}"] += 1
                row[f"local_{found.kind}_commented"] += found.commented
                wanted = listing == found.kind or (
                    listing == "uncommented" and found.kind != "other" and not found.commented
                )
                if wanted:
                    print(f"{shown}:{found.line}: {found.text}")
            for use in any_uses(path, tree, lines):
                row["any_annotations" if use.in_annotation else "any_other"] += 1
                if listing == "any":
                    print(f"{shown}:{use.line}: {'' if use.in_annotation else '(not an annotation) '}{use.text}")
    return table


COLUMNS = (
    ("local_project", "project"),
    ("local_project_commented", "with why"),
    ("local_heavy", "heavy"),
    ("local_heavy_commented", "with why"),
    ("local_other", "other"),
    ("any_annotations", "Any ann."),
    ("any_other", "Any else"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", choices=("project", "heavy", "uncommented", "any"))
    parser.add_argument("roots", nargs="*", type=Path)
    arguments = parser.parse_args(argv)
    roots = [root.resolve() for root in arguments.roots] or [REPO / name for name in PROJECT]
    table = count(roots, arguments.list)
    if arguments.list:
        return 0
    width = max(len(name) for name in table) + 2
    print("package".ljust(width) + "".join(title.rjust(10) for _, title in COLUMNS))
    for name in sorted(table):
        print(name.ljust(width) + "".join(str(table[name][key]).rjust(10) for key, _ in COLUMNS))
    for root in roots:
        total: Counter[str] = Counter()
        for name, row in table.items():
            if name.split(".")[0] == root.name:
                total.update(row)
        print(("total " + root.name).ljust(width) + "".join(str(total[key]).rjust(10) for key, _ in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
