"""Generating a script survives another thread's parse (CPython 3.11's gh-106905: "AST constructor recursion depth
mismatch", seen when the first-hour test trained in a fresh clone while a library parsed source in another thread)."""

from __future__ import annotations

import ast

import pytest

from core.code.script import generate_script
from core.model import pyparse
from tests.core.train_fixtures import mlp_project


def test_a_clash_with_another_threads_parse_is_tried_again(monkeypatch) -> None:
    real = ast.parse
    clashes = iter([True, True])

    def clashing(source, *args, **kwargs):
        if next(clashes, False):
            raise SystemError("AST constructor recursion depth mismatch (before=24, after=149)")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", clashing)
    code = generate_script(mlp_project([64], 16, 10, dataset="digits")).source
    assert "def train_one_epoch" in code


def test_other_system_errors_are_not_hidden(monkeypatch) -> None:
    def broken(source, *args, **kwargs):
        raise SystemError("something else")

    monkeypatch.setattr(ast, "parse", broken)
    with pytest.raises(SystemError, match="something else"):
        pyparse.parse("x = 1")
