"""A new layer is one catalog entry (plus, where its shape changes, one shape rule): nothing else is edited.

These tests put throwaway entries into the catalog's views for the length of one test and check that the editor's
analysis, the code generator and the generated module all pick them up from the entry alone. (A whole layer kind,
fx import and Keras mapping included, reaching every view from one list: tests/core/test_layer_kinds.py.)
"""

import pytest
import torch

from core.code.codegen import generate_model
from core.model import catalog, shape_rules
from core.model.analysis import analyze
from core.model.catalog import LAYERS, LayerSpec, ParamSpec
from core.model.graph import Graph


def _register(monkeypatch, spec, rule=None, count=None):
    monkeypatch.setitem(LAYERS, spec.id, spec)
    if rule is not None:
        monkeypatch.setitem(shape_rules.RULES, spec.id, rule)
    if count is not None:
        monkeypatch.setitem(shape_rules.PARAM_COUNTS, spec.id, count)


def _module(graph):
    code = generate_model(graph)
    namespace = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return code, namespace["Net"]()


def test_a_new_torch_layer_is_one_catalog_entry(monkeypatch):
    spec = LayerSpec(
        id="Clip",  # not in the catalog (Hardtanh is): a layer id of its own, torch's class
        display="Clip",
        category="Activation",
        help="Clips values into [min_val, max_val].",
        torch_class="nn.Hardtanh",
        params=(
            ParamSpec("min_val", "float", -1.0, "Lower bound."),
            ParamSpec("max_val", "float", 1.0, "Upper bound."),
        ),
        name_prefix="hardtanh",
    )
    _register(monkeypatch, spec)
    g = Graph()
    x = g.add("Input", shape=[6])
    clip = g.add("Clip", max_val=0.5)
    g.chain([x, clip, g.add("Output")])

    analysis = analyze(g)
    assert analysis.ok, analysis.problems
    assert analysis.shape(clip.id) == (None, 6)
    assert clip.spec is spec and spec in catalog.by_category()["Activation"]
    code, model = _module(g)
    assert f"self.{code.attr_names[clip.id]} = nn.Hardtanh(max_val=0.5)" in code.source
    sample = torch.linspace(-2, 2, 12).reshape(2, 6)
    assert torch.equal(model(sample), torch.clamp(sample, -1.0, 0.5))


def test_a_tensor_code_layer_with_its_own_shape_rule_and_flags(monkeypatch):
    """A layer without a torch class: its forward line is the entry's template; its shape is one rule."""

    def repeat_rule(ctx):
        times = ctx.params["times"]
        return (*ctx.x[:-1], ctx.x[-1] * times)

    spec = LayerSpec(
        id="RepeatLast",
        display="Repeat last",
        category="Shape",
        help="Repeats the last dimension.",
        torch_class=None,
        params=(ParamSpec("times", "int", 2, "How often.", min=1),),
        name_prefix="repeat",
        forward_template="{x}.repeat(1, {times})",
        dtype_neutral=True,
    )
    _register(monkeypatch, spec, rule=repeat_rule)
    g = Graph()
    x = g.add("Input", shape=[4], dtype="int64")
    rep = g.add("RepeatLast", times=3)
    emb = g.add("Embedding", num_embeddings=10, embedding_dim=2)
    g.chain([x, rep, emb, g.add("Flatten"), g.add("Output")])

    analysis = analyze(g)
    assert analysis.ok, analysis.problems
    assert analysis.shape(rep.id) == (None, 12)
    assert analysis.nodes[rep.id].dtype == "int64"  # dtype_neutral: token ids pass through to the Embedding
    code, model = _module(g)
    assert "x = x.repeat(1, 3)" in code.source
    tokens = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    out = model(tokens)
    assert out.shape == (2, 24)
    embedding = getattr(model, code.attr_names[emb.id])
    assert torch.equal(out, embedding(tokens.repeat(1, 3)).flatten(1))


def test_layer_flags_decide_token_inputs(monkeypatch):
    """Without ``dtype_neutral`` or ``accepts_tokens`` a layer refuses token ids, naming the fix."""
    spec = LayerSpec("Clip", "Clip", "Activation", "Clips.", "nn.Hardtanh", name_prefix="clip")
    _register(monkeypatch, spec)
    g = Graph()
    x = g.add("Input", shape=[4], dtype="int64")
    clip = g.add("Clip")
    g.chain([x, clip, g.add("Output")])
    assert "add an Embedding layer before it" in analyze(g).problems_of(clip.id)[0].message

    monkeypatch.setitem(LAYERS, "Clip", LayerSpec(**{**spec.__dict__, "accepts_tokens": True}))
    assert analyze(g).ok


def test_a_layer_returning_state_keeps_its_output(monkeypatch):
    """``returns_state``: the forward line unpacks (output, state), like the recurrent layers."""
    gru = LAYERS["GRU"]
    spec = LayerSpec(**{**gru.__dict__, "id": "MyGRU", "display": "My GRU", "name_prefix": "mygru"})
    _register(monkeypatch, spec, rule=shape_rules.RULES["GRU"], count=shape_rules.PARAM_COUNTS["GRU"])
    g = Graph()
    x = g.add("Input", shape=[5, 3])
    cell = g.add("MyGRU", hidden_size=4, return_sequences="last")
    g.chain([x, cell, g.add("Output")])
    analysis = analyze(g)
    assert analysis.shape(cell.id) == (None, 4)
    code, model = _module(g)
    assert f"x, _ = self.{code.attr_names[cell.id]}(x)" in code.source and "x = x[:, -1, :]" in code.source
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    assert model(torch.zeros(2, 5, 3)).shape == (2, 4)


@pytest.mark.parametrize("layer_id", sorted(LAYERS))
def test_tensor_code_layers_have_a_template(layer_id):
    spec = LAYERS[layer_id]
    if spec.torch_class is None and layer_id not in ("Input", "Output"):
        assert spec.forward_template, f"{layer_id} has no torch class and no forward template"
