"""The notebook's words say what its cells hold (issue 24, review 5): the "Training loop" markdown names the
lines of the cell below it, mixed precision or not, and a network the Keras export refuses is told in one
sentence naming its layers."""

from __future__ import annotations

import ast
import re

import pytest

from core.code.notebook import Step, steps
from tests.core.train_fixtures import EXAMPLES, example

NAMES = sorted(path.stem for path in EXAMPLES.glob("*.json"))


def _step(found: list[Step], title: str) -> Step:
    return next(step for step in found if step.title == title)


def _loop_spans(text: str) -> list[str]:
    """The code the markdown says the loop runs for each batch: the spans between "for each batch," and ";"."""
    said = re.search(r"for each batch, (.*?); after each epoch", text)
    assert said, text
    return re.findall(r"`([^`]+)`", said[1])


@pytest.mark.parametrize(
    "settings",
    [
        {"device": "auto"},  # mixed precision on (the examples' default): the scaler's lines
        {"device": "auto", "amp": False},
        {"device": "cpu"},  # no GPU possible: the plain lines
        {"device": "auto", "grad_clip": 1.0},
        {"device": "cpu", "grad_clip": 1.0, "scheduler": "OneCycleLR"},
    ],
)
@pytest.mark.parametrize("name", ["digits_mlp", "sequence_lstm"])
def test_the_training_loop_words_name_the_lines_of_its_cell(name: str, settings: dict) -> None:
    loop = _step(steps(example(name, **settings)), "Training loop")
    code = "\n".join(loop.code)
    spans = _loop_spans(loop.text)
    assert spans, loop.text
    for span in spans:  # each call the words promise is in the cell, as written
        assert span in code, (span, settings)
    scaler = "scaler.step(optimizer)" in code
    assert ("loss.backward()" in spans) is not scaler and ("optimizer.step()" in spans) is not scaler
    assert ("GradScaler" in loop.text) is scaler  # one sentence says what the scaler does, only when it is there


@pytest.mark.parametrize("name", NAMES)
def test_every_examples_loop_words_match_its_cell(name: str) -> None:
    project = example(name, device="auto")  # as the examples ship: a GPU may run them
    loop = _step(steps(project), "Training loop")
    code = "\n".join(loop.code)
    for span in _loop_spans(loop.text):
        assert span in code, (name, span)


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("resnet_small", "it has no Keras translation for `layer1` and `layer2` (Block)."),
        ("sequence_transformer", "for `positions` (PositionalEmbedding) and `encoder` (TransformerEncoder)."),
    ],
)
def test_a_network_keras_lacks_is_told_in_one_sentence_naming_its_layers(name: str, sentence: str) -> None:
    text = _step(steps(example(name)), "Model").text
    words = text.split("```")[-1].strip()  # after the summary table
    assert words.startswith("TorchCanvas cannot write this network in Keras yet:"), words
    assert words.endswith(sentence), words
    assert words.count("Keras") == 2 and not words.endswith(":")  # no repeated clause, no list-less colon


def _top_level_exits(code: str) -> list[str]:
    """``raise SystemExit`` run by the cell itself (not inside a function it defines)."""
    found = []
    for statement in ast.parse(code).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            continue
        found += [
            ast.unparse(n) for n in ast.walk(statement) if isinstance(n, ast.Raise) and "SystemExit" in ast.unparse(n)
        ]
    return found


@pytest.mark.parametrize("name", ["mnist_mlp", "digits_mlp", "sequence_lstm", "resnet_small"])
def test_no_cell_ends_the_kernel_and_the_curves_import_matplotlib_plainly(name: str) -> None:
    """In Jupyter a SystemExit reads as a crashed kernel ("An exception has occurred, use %tb"): the data cell lets
    the loader's own error show; the curves cell imports matplotlib as every tutorial does, no second path."""
    found = steps(example(name))
    for step in found:
        for code in step.code:
            assert not _top_level_exits(code), (step.title, code)
    data = "\n".join(_step(found, "Data").code)
    assert "data = load_data()" in data
    curves = "\n".join(_step(found, "Curves").code)
    assert curves.startswith("import matplotlib.pyplot as plt\n") and "plt is None" not in curves
    assert "%pip install matplotlib" in _step(found, "Curves").text
