"""The exported loop's annotations say what its functions return (issue 24, review 5 R5): a beginner trusts
``-> tuple`` and ``train_one_epoch`` returned a dict."""

from __future__ import annotations

import ast

import pytest

from core.code.script import generate_script
from tests.core.train_fixtures import example

KINDS = {ast.Dict: "dict", ast.Tuple: "tuple"}


@pytest.mark.parametrize(
    "settings",
    [{}, {"distributed": True}, {"device": "auto", "scheduler": "OneCycleLR", "grad_clip": 1.0}],
)
def test_train_one_epoch_is_annotated_with_what_it_returns(settings: dict) -> None:
    source = generate_script(example("digits_mlp", **settings)).source
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "train_one_epoch"
    )
    returns = [node.value for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    assert len(returns) == 1 and function.returns is not None
    annotation = ast.unparse(function.returns)
    kind = KINDS[type(returns[0])]
    assert annotation == kind, (annotation, ast.unparse(returns[0]))  # dict[str, float] would wrap the signature


def test_the_comment_on_correct_says_what_it_holds() -> None:
    """Review 5 R16: the comment said ``correct`` was a tensor on the line that sets it to the int 0."""
    source = generate_script(example("digits_mlp")).source
    line = next(line for line in source.splitlines() if "total_loss, correct, seen = 0.0, 0, 0" in line)
    assert "correct becomes a tensor" in line and "# correct: a tensor" not in line
