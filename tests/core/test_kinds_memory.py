"""Each kind's ``memory`` (and ``memory_in_place``) says what torch does: the in-place check
(core.model.in_place) trusts it to follow a view back to the memory it views and to know which outputs torch still
needs, so a kind marked wrongly would let an in-place layer through to a wrong result or a failed training step."""

import pytest
import torch

from core.code.codegen import generate_model
from core.model.analysis import analyze
from core.model.catalog import LAYERS
from core.model.graph import Graph
from core.model.in_place import MEMORY, MEMORY_IN_PLACE

# one sample's shape for the Input, tried in turn until the layer with its defaults fits
SAMPLES = ([3, 8, 8], [16], [4, 6], [8, 4, 4], [784], [2, 4, 6, 6], [8, 8])
ONE_INPUT = [k for k, spec in LAYERS.items() if k not in ("Input", "Output") and spec.input_count(spec.defaults()) == 1]
IN_PLACE = [k for k in ONE_INPUT if LAYERS[k].has_param("inplace")]
# cuDNN's backward pass reads a recurrent layer's output (the CPU's only LSTM's): kept, whatever the CPU says
KEPT_ON_CUDA = {"GRU", "RNN"}


def alone(layer: str, **params) -> tuple[torch.nn.Module, list[int], str]:
    """The model Input -> the layer -> Output, for the first sample shape the layer takes."""
    for shape in SAMPLES:
        for dtype in ("float32", "int64"):
            graph = Graph()
            graph.chain([graph.add("Input", shape=shape, dtype=dtype), graph.add(layer, **params), graph.add("Output")])
            if analyze(graph).ok:
                code = generate_model(graph)
                namespace: dict = {}
                exec(compile(code.source, "<generated>", "exec"), namespace)
                return namespace[code.class_name](), shape, dtype
    raise AssertionError(f"no sample shape fits {layer}; add one to SAMPLES")


def sample(shape: list[int], dtype: str, grad: bool) -> torch.Tensor:
    if dtype == "int64":
        return torch.zeros((2, *shape), dtype=torch.long)
    x = torch.randn(2, *shape)
    return x * torch.ones((), requires_grad=True) if grad else x  # a tensor the backward pass flows through


def same_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def torch_memory(layer: str, in_place: bool) -> str:
    """What torch does with the layer's output when an in-place layer overwrites it (``Memory``'s words)."""
    model, shape, dtype = alone(layer, **({"inplace": True} if in_place else {}))
    y = model.train()(sample(shape, dtype, grad=True))
    try:
        y.mul_(1.0)  # what an in-place layer after it does
    except RuntimeError:
        return "shared" if y.stride(0) == 0 else "piece"
    try:
        y.float().sum().backward()
    except RuntimeError:
        return "kept"
    if in_place:
        return "new"
    with torch.no_grad():
        handed_on = []
        for training in (True, False):  # Dropout hands its input on only when evaluating
            x = sample(shape, dtype, grad=False)
            handed_on.append(same_memory(x, model.train(training)(x)))
    return "input" if any(handed_on) else "new"


@pytest.mark.parametrize("layer", ONE_INPUT)
def test_each_kinds_memory_is_what_torch_does(layer):
    found = torch_memory(layer, in_place=False)
    if layer in KEPT_ON_CUDA:
        assert found in ("new", "kept")
        found = "kept"
    assert MEMORY.get(layer, "new") == found


@pytest.mark.parametrize("layer", IN_PLACE)
def test_each_kinds_memory_in_place_is_what_torch_does(layer):
    assert MEMORY_IN_PLACE.get(layer, "new") == torch_memory(layer, in_place=True)
