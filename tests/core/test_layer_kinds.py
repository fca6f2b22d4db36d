"""A layer kind is one object in one family module; every lookup is derived from the one list of kinds.

The parameter counts are written by hand in the kinds: here each is checked against torch itself (the module
built on the meta device, so no memory is spent), for the defaults and for each other value of a parameter.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import pytest
import torch
from torch import nn

from core.code import keras_layers
from core.code.codegen import generate_model
from core.code.keras_code import generate_keras_model
from core.fx_import import import_model, modules
from core.model import catalog, shape_rules, task_check
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.kinds import KINDS, from_torch, keeps_shape, keras, layers, param_counts, rules
from core.model.kinds.keras import simple
from core.model.kinds.kind import LayerKind, P, kind
from core.model.kinds.shapes import RuleContext, Shape

AUTO = 8  # every auto size (in_channels, d_model ...): divisible by the default heads and groups


def _module_class(kind: LayerKind) -> Any:
    spec = kind.spec
    if spec.helper:  # the class the generated file defines (PositionalEmbedding, TransformerEncoderStack)
        namespace: dict[str, Any] = {"torch": torch, "nn": nn}
        exec(compile(spec.helper, spec.id, "exec"), namespace)
        return namespace[spec.torch_class]
    return getattr(nn, spec.torch_class.removeprefix("nn."))


def _other_values(kind: LayerKind) -> list[dict[str, Any]]:
    """One change at a time from the defaults: each bool flipped, each choice, each whole number + 1, each size
    with different numbers per dimension."""
    changes: list[dict[str, Any]] = []
    for p in kind.spec.params:
        if p.auto or p.default is None or (not p.codegen and p.kind != "choice"):
            continue
        if p.kind == "bool":
            changes.append({p.name: not p.default})
        elif p.kind == "choice":
            changes += [{p.name: c} for c in p.choices if c != p.default]
        elif p.kind == "int" and (p.max is None or p.default + 1 <= p.max):
            changes.append({p.name: p.default + 1})
        elif p.kind == "size" and isinstance(p.default, int):
            changes.append({p.name: [p.default + i + 1 for i in range(p.dims)] if p.dims > 1 else p.default + 1})
    return changes


TORCH_KINDS = [k for k in KINDS if k.spec.torch_class]


@pytest.mark.parametrize("layer_kind", TORCH_KINDS, ids=[k.id for k in TORCH_KINDS])
def test_each_kinds_parameter_count_is_torchs(layer_kind: LayerKind) -> None:
    spec = layer_kind.spec
    cls = _module_class(layer_kind)
    defaults = {p.name: AUTO if p.auto else p.default for p in spec.params}
    built = 0
    for change in [{}, *_other_values(layer_kind)]:
        params = {**defaults, **change}
        kwargs = {p.name: params[p.name] for p in spec.params if p.codegen}
        try:
            with warnings.catch_warnings(), torch.device("meta"):
                warnings.simplefilter("ignore")
                module = cls(**kwargs, **dict(spec.extra_args))
        except (ValueError, AssertionError, RuntimeError):  # torch refuses this one change (e.g. 9 groups of 8)
            assert change, f"{spec.id} with its defaults cannot be built"
            continue
        built += 1
        expected = module.numel() if isinstance(module, nn.Parameter) else sum(p.numel() for p in module.parameters())
        counted = layer_kind.count(params) if layer_kind.count else 0
        assert counted == expected, f"{spec.id} {change}: counted {counted}, torch has {expected}"
    assert built >= 1


def test_the_lookups_are_views_of_the_one_list() -> None:
    assert list(catalog.LAYERS) == [k.id for k in KINDS]
    assert all(catalog.LAYERS[k.id] is k.spec for k in KINDS)
    derived = (rules(), param_counts(), from_torch(), keras(), keeps_shape())
    views = (shape_rules.RULES, shape_rules.PARAM_COUNTS, modules.MODULES, keras_layers.KERAS_LAYERS)
    assert (*views, task_check.KEEPS_SHAPE) == derived
    assert {"Softmax", "BatchNorm1d", "LayerNorm"} <= task_check.KEEPS_SHAPE
    torch_classes = {k.id for k in KINDS if (k.spec.torch_class or "").startswith("nn.")}
    imported = {k.id for k in KINDS if k.imports}  # or by the classes from elsewhere it names (StochasticDepth)
    assert {k.id for k in KINDS if k.from_torch} <= torch_classes | imported  # the fx import finds the class


def test_the_kinds_import_neither_torch_nor_keras() -> None:
    """The window starts without torch: the kinds read a module's attributes, never its class object."""
    code = "import sys, core.model.kinds, core.model.catalog; print(sorted({'torch', 'keras'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- one more kind, in a list of our own ---------------------------------------------------------------------
def _hardshrink_rule(ctx: RuleContext) -> Shape:
    if ctx.params["lambd"] < 0:
        raise ctx.fail(f"{ctx.name}: lambd must be at least 0, not {ctx.params['lambd']}")
    return ctx.x


HARDSHRINK = kind(
    "Hardshrink",
    "Activation",
    "Zeroes values within lambd of 0.",
    P("lambd", "float", 0.5, "Half-width of the zeroed band.", min=-1.0),
    rule=_hardshrink_rule,
    from_torch=lambda m: {"lambd": m.lambd},
    keras=simple("layers.Activation", '"hard_shrink"'),
    keeps_shape=True,
    prefix="shrink",
)


class _Shrinking(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.shrink = nn.Hardshrink(0.75)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shrink(self.fc(x))


def _use(monkeypatch: pytest.MonkeyPatch, kinds: tuple[LayerKind, ...]) -> None:
    """What the package's list would give if the kind were in a family's tuple: every view, for this test."""
    views = (
        (catalog.LAYERS, layers(kinds)),
        (shape_rules.RULES, rules(kinds)),
        (shape_rules.PARAM_COUNTS, param_counts(kinds)),
        (modules.MODULES, from_torch(kinds)),
        (keras_layers.KERAS_LAYERS, keras(kinds)),
    )
    for view, fresh in views:
        for key, value in fresh.items():
            monkeypatch.setitem(view, key, value)
    monkeypatch.setattr(task_check, "KEEPS_SHAPE", keeps_shape(kinds))


def test_a_kind_in_the_list_reaches_palette_shapes_code_import_and_keras(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Hardshrink" not in catalog.LAYERS
    _use(monkeypatch, (*KINDS, HARDSHRINK))

    assert HARDSHRINK.spec in catalog.by_category()["Activation"]
    assert "Hardshrink" in task_check.KEEPS_SHAPE
    g = Graph()
    x = g.add("Input", shape=[6])
    shrink = g.add("Hardshrink", lambd=0.25)
    g.chain([x, shrink, g.add("Output")])
    analysis = analyze(g)
    assert analysis.ok, analysis.problems
    assert analysis.shape(shrink.id) == (None, 6)

    code = generate_model(g)
    assert f"self.{code.attr_names[shrink.id]} = nn.Hardshrink(lambd=0.25)" in code.source
    namespace: dict[str, Any] = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    sample = torch.linspace(-1, 1, 12).reshape(2, 6)
    assert torch.equal(namespace["Net"]()(sample), nn.functional.hardshrink(sample, 0.25))

    assert 'layers.Activation("hard_shrink"' in generate_keras_model(g).source

    imported = import_model(_Shrinking(), [4]).project.graph
    assert [(n.type, n.params) for n in imported.nodes if n.type == "Hardshrink"] == [("Hardshrink", {"lambd": 0.75})]

    g.set_param(shrink.id, "lambd", -0.5)
    assert "lambd must be at least 0" in analyze(g).problems_of(shrink.id)[0].message


def test_a_kind_not_in_the_list_is_nowhere() -> None:
    assert "Hardshrink" not in catalog.LAYERS and "Hardshrink" not in modules.MODULES
    assert "Hardshrink" not in modules.supported_names()


# --- what the import kept silently wrong ---------------------------------------------------------------------
class _Norm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4, momentum=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def _built(graph: Graph) -> tuple[Any, nn.Module]:
    code = generate_model(graph)
    namespace: dict[str, Any] = {}
    exec(compile(code.source, "<generated>", "exec"), namespace)
    return code, namespace[code.class_name]()


def test_batchnorm_without_momentum_keeps_its_cumulative_average() -> None:
    """momentum=None (running statistics are the average of all batches) was imported as 0.1."""
    graph = import_model(_Norm(), [3, 8, 8]).project.graph
    bn = next(n for n in graph.nodes if n.type == "BatchNorm2d")
    assert bn.params["momentum"] is None
    code, model = _built(graph)
    assert f"self.{code.attr_names[bn.id]} = nn.BatchNorm2d(4, momentum=None)" in code.source
    assert getattr(model, code.attr_names[bn.id]).momentum is None
    with pytest.raises(Exception, match="momentum empty"):
        generate_keras_model(graph)


class _Soft(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.soft = nn.Softplus(beta=2.0, threshold=5.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.soft(self.fc(x)), 0.5, threshold=3.0)


def test_softplus_keeps_beta_and_threshold() -> None:
    """nn.Softplus(beta, threshold) and F.softplus(x, beta, threshold) lost both on import."""
    graph = import_model(_Soft(), [4]).project.graph
    found = [n.params for n in graph.nodes if n.type == "Softplus"]
    assert found == [{"beta": 2.0, "threshold": 5.0}, {"beta": 0.5, "threshold": 3.0}]
    code, model = _built(graph)
    assert "nn.Softplus(beta=2.0, threshold=5.0)" in code.source
    sample = torch.linspace(-3, 3, 8).reshape(2, 4)
    soft = [m for m in model.modules() if isinstance(m, nn.Softplus)]
    assert [(m.beta, m.threshold) for m in soft] == [(2.0, 5.0), (0.5, 3.0)]
    assert torch.isfinite(model(sample)).all()
    with pytest.raises(Exception, match="no beta or threshold"):
        generate_keras_model(graph)


def test_softplus_refuses_beta_zero() -> None:
    g = Graph()
    x = g.add("Input", shape=[4])
    soft = g.add("Softplus", beta=0.0)
    g.chain([x, soft, g.add("Output")])
    assert "beta 0 divides by zero" in analyze(g).problems_of(soft.id)[0].message
