"""build_model never touches torch's global random generator: the window builds networks in its threads (Try it
after a run, the layer outputs view) while a run may be training in another, and seeding or drawing from the one
process-wide generator there changed the run's dropout masks, so its losses were not those of the CLI or the
exported script. With weights the network is made on the meta device and takes the file's tensors; without, its
starting values come from a private generator with the project's seed. Both must give the network the old build
(torch.manual_seed, then build, then copy the weights in) gave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from core.files import built_model
from core.files.built_model import build_model, generated_code, sample_inputs
from core.files.project import load

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def old_build(project: Any, state: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    """The build as it was: the global generator seeded, every starting value drawn from it, weights copied in."""
    code, _ = generated_code(project)
    namespace: dict[str, Any] = {"__name__": "old_build"}
    exec(compile(code.source, "<old build>", "exec"), namespace)
    torch.manual_seed(project.training.seed)
    module = namespace[code.class_name]()
    if state is not None:
        module.load_state_dict(state)
    return module.eval()


def trained_weights(project: Any, path: Path) -> dict[str, torch.Tensor]:
    """Weights unlike the starting ones (and BatchNorm statistics unlike 0 and 1), saved as a run saves them."""
    module = old_build(project)
    generator = torch.Generator().manual_seed(7)
    state = {}
    for key, value in module.state_dict().items():
        if value.is_floating_point():
            value = value + 0.1 * torch.randn(value.shape, generator=generator)
            if key.endswith("running_var"):
                value = value.abs() + 0.5
        else:
            value = value + 3
        state[key] = value
    torch.save(state, path)
    return state


def a_generator_part_way() -> torch.Tensor:
    torch.manual_seed(1234)
    torch.rand(3)  # part-way through its numbers, not at a seed's start
    return torch.random.get_rng_state()


def same_outputs(project: Any, a: torch.nn.Module, b: torch.nn.Module, built: Any) -> None:
    for (key, x), (key_b, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert key == key_b and x.dtype == y.dtype and torch.equal(x, y), key
    inputs = sample_inputs(built, project)
    with torch.no_grad():
        out_a, out_b = a(*inputs), b(*inputs)
    for x, y in zip(torch.utils._pytree.tree_leaves(out_a), torch.utils._pytree.tree_leaves(out_b), strict=True):
        assert torch.equal(x, y)


def projects() -> list[Any]:
    """Every example (BatchNorm, LSTM, Embedding, a transformer, ResNets) and an imported ViT with learned tensors."""
    from tests.core.import_fixtures import round_trip
    from tests.core.test_import_tensors import TinyViT

    found = [pytest.param(lambda p=p: load(p), id=p.stem) for p in sorted(EXAMPLES.glob("*.json"))]
    return [*found, pytest.param(lambda: round_trip(TinyViT(), [3, 16, 16]), id="imported_vit")]


@pytest.mark.parametrize("make", projects())
def test_a_build_with_weights_leaves_the_global_generator_alone_and_gives_the_same_network(make, tmp_path) -> None:
    project = make()
    state = trained_weights(project, tmp_path / "last.pt")
    before = a_generator_part_way()
    built = build_model(project, tmp_path)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert not built_model._left_on_meta(built.module) and not built.module.training
    same_outputs(project, built.module, old_build(project, state), built)


@pytest.mark.parametrize("make", projects())
def test_a_build_without_weights_leaves_the_global_generator_alone_and_draws_the_seeded_values(make) -> None:
    project = make()
    before = a_generator_part_way()
    built = build_model(project)
    assert torch.equal(torch.random.get_rng_state(), before)
    same_outputs(project, built.module, old_build(project), built)


def test_weights_saved_in_half_precision_load_in_the_networks_own_dtype(tmp_path) -> None:
    """A copy into the layers cast the file's float16 to float32; taking the tensors as they are would not."""
    project = load(EXAMPLES / "spirals.json")
    state = trained_weights(project, tmp_path / "w.pt")
    torch.save({k: v.half() for k, v in state.items()}, tmp_path / "w.pt")
    built = build_model(project, tmp_path / "w.pt")
    expected = old_build(project, {k: v.half() for k, v in state.items()})
    same_outputs(project, built.module, expected, built)
    assert all(p.dtype == torch.float32 for p in built.module.parameters())


def test_a_network_the_meta_device_cannot_make_is_built_normally(tmp_path, monkeypatch) -> None:
    """The fallback: a tensor no state_dict holds stays without values on the meta device, so the network is
    built with its seeded starting values and the weights copied in (still not from the global generator)."""
    project = load(EXAMPLES / "spirals.json")
    state = trained_weights(project, tmp_path / "w.pt")
    real = built_model._without_values

    def with_a_plain_tensor(make: Any) -> Any:
        module = real(make)
        module.extra = torch.zeros(2, device="meta")  # as a constant a constructor made would be
        return module

    monkeypatch.setattr(built_model, "_without_values", with_a_plain_tensor)
    before = a_generator_part_way()
    built = build_model(project, tmp_path / "w.pt")
    assert torch.equal(torch.random.get_rng_state(), before)
    assert not hasattr(built.module, "extra") and not built_model._left_on_meta(built.module)
    same_outputs(project, built.module, old_build(project, state), built)
