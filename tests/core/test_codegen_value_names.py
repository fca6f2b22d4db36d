"""A value in the generated forward is named after what made it (issue 24, review 5 R6): an Input's name
(``tokens``) names the argument only; what the layers make of it (embeddings, LSTM outputs, class scores) is
``x``, ``x1``, ... as in every other model, never ``tokens`` again."""

from __future__ import annotations

import ast

import pytest

from core.code.codegen import generate_model
from core.model.graph import Graph
from core.model.node import Edge
from tests.core.train_fixtures import example


def _forward(source: str) -> ast.FunctionDef:
    net = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Net")
    return next(n for n in net.body if isinstance(n, ast.FunctionDef) and n.name == "forward")


def _assigned(function: ast.FunctionDef) -> set[str]:
    targets = [t for node in ast.walk(function) if isinstance(node, ast.Assign) for t in node.targets]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id != "_"}


@pytest.mark.parametrize("name", ["sequence_lstm", "sequence_transformer"])
def test_a_token_input_names_the_argument_and_nothing_after_it(name: str) -> None:
    source = generate_model(example(name).graph).source
    forward = _forward(source)
    assert [a.arg for a in forward.args.args] == ["self", "tokens"]
    assert "tokens" not in _assigned(forward), source
    assert "= self.embed(tokens)" in source and "return x\n" in source


def test_two_named_inputs_keep_their_names_for_themselves() -> None:
    g = Graph()
    image = g.add("Input", name="image", shape=[8])
    meta = g.add("Input", name="meta", shape=[3])
    fc1 = g.add("Linear", name="fc1", out_features=4)
    fc2 = g.add("Linear", name="fc2", out_features=4)
    cat = g.add("Concat", dim=1)
    head = g.add("Linear", name="head", out_features=2)
    out = g.add("Output")
    g.chain([image, fc1, cat, head, out])
    g.chain([meta, fc2])
    g.connect(Edge(fc2.id, cat.id, 1))
    source = generate_model(g).source
    forward = _forward(source)
    assert [a.arg for a in forward.args.args] == ["self", "image", "meta"]
    assert not {"image", "meta"} & _assigned(forward), source
    compile(source, "<gen>", "exec")


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_cnn", "digits_lstm"])
def test_an_input_named_x_carries_the_running_value_as_before(name: str) -> None:
    forward = _forward(generate_model(example(name).graph).source)
    assert [a.arg for a in forward.args.args] == ["self", "x"] and _assigned(forward) == {"x"}
