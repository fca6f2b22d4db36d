"""The network as a live ``nn.Module`` for exporting: built from the generated source (the code the app shows),
executed in a fresh namespace and registered with ``linecache`` so tracebacks show real lines, with trained
weights loaded (checked layer by layer, so a mismatch names the layer) and a sample batch to trace it with."""

from __future__ import annotations

import itertools
import linecache
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.code.codegen import CodegenError, GeneratedCode, generate_model
from core.errors import ExportError
from core.files.project import Project
from core.files.weights import read_weights, unwrap_keys
from core.model.analysis import Analysis, analyze
from core.own_random import OwnGenerator, seeded

_counter = itertools.count(1)


@dataclass
class BuiltModel:
    module: nn.Module
    code: GeneratedCode
    analysis: Analysis
    filename: str  # the linecache name of the generated source
    names: dict[str, str]  # node id -> node name, for messages
    weights: Path | None = None  # the file the weights came from
    weights_note: str = ""  # e.g. why best.pt was used instead of an empty last.pt


# --- building the model from the generated source ------------------------------------------------------------
def generated_code(project: Project) -> tuple[GeneratedCode, Analysis]:
    """The model source and its analysis; a network with problems is an ExportError that lists them."""
    analysis = analyze(project.graph)
    try:
        return generate_model(project.graph, title=project.name, analysis=analysis), analysis
    except CodegenError as exc:
        raise ExportError(f"Cannot export: {exc}", exc.node_id) from None


def build_model(project: Project, weights: str | Path | None = None) -> BuiltModel:
    """The network as a module in eval mode, from the generated source, with weights loaded when given.

    torch's random generator is one for the whole process, and the window builds networks in its threads while a
    run may be training in another: seeding or drawing from it then changed the run's dropout masks and its losses
    (Try it after a run). So nothing here touches it. With weights, the network is made on torch's meta device
    (names, shapes and dtypes, no values) and takes the file's tensors as its own; without, its starting values
    are drawn from a private generator seeded with the project's seed, the very values a run with that seed starts
    from."""
    code, analysis = generated_code(project)
    filename = f"<torchcanvas model {next(_counter)}>"
    linecache.cache[filename] = (len(code.source), None, code.source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "torchcanvas_generated"}
    exec(compile(code.source, filename, "exec"), namespace)
    make = namespace[code.class_name]
    names = {n.id: n.name for n in project.graph.nodes}
    seed = project.training.seed
    if weights is None:
        built = BuiltModel(_seeded(make, seed), code, analysis, filename, names)
        built.module.eval()
        return built
    loaded = read_weights(weights)
    empty = _without_values(make)
    built = BuiltModel(empty if empty is not None else _seeded(make, seed), code, analysis, filename, names)
    state, unwrapped = unwrap_keys(loaded.state, built.module.state_dict(), loaded.file)  # DataParallel's `module.`
    _check_fit(built, state)
    if empty is None or not _take(empty, state):
        # A network the meta device cannot make as it is (its constructor computes with values, or keeps a tensor
        # no state_dict holds, or ties two layers' weights) is built with its seeded starting values and the
        # weights are copied in, as before, still without the global generator.
        built.module = _seeded(make, seed)
        built.module.load_state_dict(state)
    built.module.eval()
    built.weights, built.weights_note = loaded.file, " ".join(note for note in (loaded.note, unwrapped) if note)
    return built


def _seeded(make: Any, seed: int) -> nn.Module:
    """The network with its starting values drawn from a private generator seeded with ``seed``: the values
    ``torch.manual_seed(seed)`` then building gives (both are the CPU's Mersenne Twister from that seed)."""
    try:
        with seeded(seed):
            return make()  # type: ignore[no-any-return]
    except Exception as exc:
        raise ExportError(f"Cannot build the network: {exc}") from None


def _without_values(make: Any) -> nn.Module | None:
    """The network on the meta device (no values: nothing random is drawn), or None where it cannot be made so."""
    try:
        with torch.device("meta"), OwnGenerator(torch.Generator()):  # a draw on a meta tensor draws nothing
            return make()  # type: ignore[no-any-return]
    except Exception:
        return None


def _take(module: nn.Module, state: dict[str, torch.Tensor]) -> bool:
    """Give the meta-device ``module`` the tensors of ``state`` (in the module's own dtypes, as a copy into it would
    make them); False, leaving it unusable, where the result would not be the module the normal build gives."""
    tied = len(list(module.named_parameters(remove_duplicate=False))) != len(list(module.named_parameters()))
    if tied or len(list(module.named_buffers(remove_duplicate=False))) != len(list(module.named_buffers())):
        return False  # assigning would untie them
    own = module.state_dict(keep_vars=True)
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, assign=True)
    return not _left_on_meta(module)


def _left_on_meta(module: nn.Module) -> bool:
    """Whether a tensor no state_dict holds (a non-persistent buffer, a plain tensor attribute, an LSTM's list of
    flat weights) is still on the meta device, without values."""
    for m in module.modules():
        for value in [*m._parameters.values(), *m._buffers.values(), *vars(m).values()]:
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, torch.Tensor) and v.is_meta for v in values):
                return True
    return False


def _check_fit(built: BuiltModel, state: dict[str, torch.Tensor]) -> None:
    attr_to_node = {attr: nid for nid, attr in built.code.attr_names.items()}

    def who(key: str) -> str:
        node_id = attr_to_node.get(key.split(".")[0])
        return built.names.get(node_id, key.split(".")[0]) if node_id else key

    own = built.module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("no weights for " + ", ".join(sorted({who(k) for k in missing})))
        if unexpected:
            parts.append("weights for layers this network lacks (" + ", ".join(sorted(unexpected)[:5]) + ")")
        raise ExportError(
            f"The weights do not fit this network: {'; '.join(parts)}. Was the network changed after training?"
        )
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            node_id = attr_to_node.get(key.split(".")[0])
            raise ExportError(
                f"{who(key)}: the weights {key} have shape {list(value.shape)} but the layer needs "
                f"{list(own[key].shape)}. Was the layer changed after training?",
                node_id,
            )


def sample_inputs(built: BuiltModel, project: Project, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """One small random batch per Input node, in forward-argument order (token ids stay below every vocab)."""
    generator = torch.Generator().manual_seed(0)
    vocab = min(
        (int(n.params.get("num_embeddings", 1000)) for n in project.graph.nodes_of_type("Embedding")), default=10
    )
    tensors = []
    for nid in built.analysis.order:
        node = project.graph.node(nid)
        if node.type != "Input":
            continue
        shape = (batch, *built.analysis.nodes[nid].params["shape"])
        if built.analysis.nodes[nid].params.get("dtype") == "int64":
            tensors.append(torch.randint(0, max(1, min(vocab, 10)), shape, generator=generator))
        else:
            tensors.append(torch.randn(shape, generator=generator))
    return tuple(tensors)
