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
from core.files.weights import read_weights
from core.model.analysis import Analysis, analyze

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
    """The network as a module in eval mode, from the generated source, with weights loaded when given."""
    code, analysis = generated_code(project)
    filename = f"<torchcanvas model {next(_counter)}>"
    linecache.cache[filename] = (len(code.source), None, code.source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "torchcanvas_generated"}
    exec(compile(code.source, filename, "exec"), namespace)
    torch.manual_seed(project.training.seed)
    names = {n.id: n.name for n in project.graph.nodes}
    try:
        module = namespace[code.class_name]()
    except Exception as exc:
        raise ExportError(f"Cannot build the network: {exc}") from None
    module.eval()
    built = BuiltModel(module, code, analysis, filename, names)
    if weights is not None:
        loaded = read_weights(weights)
        _load_into(built, loaded.state)
        built.weights, built.weights_note = loaded.file, loaded.note
    return built


def _load_into(built: BuiltModel, state: dict[str, torch.Tensor]) -> None:
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
    built.module.load_state_dict(state)


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
