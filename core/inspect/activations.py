"""What a node outputs for one chosen sample, summarised for the canvas: feature maps, a vector or a heat map,
the value range and the share of zeros.

The numbers come from the generated model itself (the code the user reads): one forward pass of the sample with a
forward hook on the node's submodule (``GeneratedCode.attr_names`` says which). A node with no submodule of its
own (an Add, a Concat) is seen at the input of the first node after it that has one; the Input node is the sample,
the Output node the model's output. Works on the weights training starts from (a freshly built model) as on the
trainer's live one; ``LivePreview`` refreshes them about once a second while a run trains.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.files.project import Project
from core.inspect.nodes import InspectError, NodeRef, module_nodes
from core.inspect.start import Start, start_model
from core.model.analysis import analyze
from core.training.watch import Watcher

MAX_CHANNELS = 16  # feature maps shown for a [C, H, W] output: the first ones
MAX_SIDE = 32  # a map or heat map is pooled down to at most this many pixels a side
MAX_VALUES = 256  # a vector shows at most this many values


@dataclass
class NodeOutput:
    """One node's output for one sample. ``kind`` says which picture fits: "maps" ([C, H, W]: ``maps`` holds the
    first channels), "vector" ([F]: ``vector``), "sequence" ([T, F] or [C, L]: ``heat``), "value" (a scalar)."""

    node_id: str
    name: str
    shape: tuple[int, ...]  # one sample's output shape (no batch dimension)
    kind: str
    minimum: float
    maximum: float
    mean: float
    zeros: float  # share of values exactly 0 (after a ReLU: the units that did not fire)
    tensor: torch.Tensor  # the whole output for the sample, on the CPU
    maps: np.ndarray | None = None  # [K, h, w], K <= MAX_CHANNELS, h, w <= MAX_SIDE
    vector: np.ndarray | None = None  # [min(F, MAX_VALUES)]
    heat: np.ndarray | None = None  # [t, f] <= MAX_SIDE x MAX_SIDE

    @property
    def channels(self) -> int:
        return self.shape[0] if self.kind == "maps" else 0


class LayerOutputs:
    """Computes node outputs on a model built from the project or on a model handed in (the trainer's, between two
    batches: the model is put in eval mode for the pass and back after). Built here, it holds the weights training
    starts from (``core.inspect.start``: imported, pretrained or initial weights, else random ones from the seed;
    ``start`` says which), read beside ``project_path``."""

    def __init__(
        self, project: Project, model: nn.Module | None = None, project_path: str | os.PathLike[str] | None = None
    ) -> None:
        self.project = project
        self.nodes = module_nodes(project.graph)
        self.by_id: dict[str, NodeRef] = {ref.node_id: ref for ref in self.nodes.values()}
        graph = project.graph
        self.input_ids = [n for n in analyze(graph).order if graph.node(n).type == "Input"]  # forward's order
        self.start: Start | None = None  # which weights a model built here holds
        if model is None:
            model, self.start = start_model(project, project_path)
        self.model = model

    def outputs(self, sample: torch.Tensor | tuple[torch.Tensor, ...], node_ids: list[str]) -> dict[str, NodeOutput]:
        """The outputs of ``node_ids`` for one sample (no batch dimension; a tuple for several Inputs)."""
        inputs = sample if isinstance(sample, tuple) else (sample,)
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        batch = tuple(x.unsqueeze(0).to(device) for x in inputs)
        seen: dict[str, torch.Tensor] = {}
        hooks = [self._hook(node_id, seen) for node_id in node_ids]
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                result = self.model(*batch)
        finally:
            for handle in hooks:
                if handle is not None:
                    handle.remove()
            self.model.train(was_training)
        graph = self.project.graph
        found = {}
        for node_id in node_ids:
            node = graph.node(node_id)
            if node.type == "Input":
                seen[node_id] = batch[self.input_ids.index(node_id)]
            elif node.type == "Output":
                seen[node_id] = result[0] if isinstance(result, tuple) else result
            if node_id not in seen:
                raise InspectError(f"{node.name} has no output of its own to show (it feeds nothing that has).")
            found[node_id] = summarise(node_id, node.name, seen[node_id][0].detach().float().cpu())
        return found

    def output(self, sample: torch.Tensor | tuple[torch.Tensor, ...], node_id: str) -> NodeOutput:
        return self.outputs(sample, [node_id])[node_id]

    def _hook(self, node_id: str, seen: dict[str, torch.Tensor]) -> Any:
        node = self.project.graph.node(node_id)
        ref = self.by_id.get(node_id)
        if ref is not None and node.type not in ("LSTM", "GRU", "RNN"):  # these return (output, state)

            def keep(module: nn.Module, args: Any, output: Any) -> None:
                seen[node_id] = output[0] if isinstance(output, tuple) else output

            return self.model.get_submodule(ref.attr).register_forward_hook(keep)
        for edge in self.project.graph.consumers(node_id):  # no module (or a state too): the next node's input
            after = self.by_id.get(edge.dst)
            if after is not None and edge.dst_port == 0:

                def take(module: nn.Module, args: Any) -> None:
                    seen.setdefault(node_id, args[0])

                return self.model.get_submodule(after.attr).register_forward_pre_hook(take)
        if ref is not None:  # a recurrent node at the end: its module's first output

            def first(module: nn.Module, args: Any, output: Any) -> None:
                seen[node_id] = output[0]

            return self.model.get_submodule(ref.attr).register_forward_hook(first)
        return None


class LivePreview(Watcher):
    """A ``core.training.watch.Watcher`` that recomputes the chosen nodes' outputs on the trainer's model about
    once every ``interval`` seconds, between two batches on the training thread (one forward pass of one sample:
    nothing next to a batch), and hands them to ``on_outputs(step, outputs)``. ``select`` may be called from any
    thread (the window's sample picker and node selection): the next refresh uses what it set."""

    def __init__(
        self,
        project: Project,
        sample: torch.Tensor | tuple[torch.Tensor, ...],
        node_ids: list[str],
        on_outputs: Callable[[int, dict[str, NodeOutput]], None],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.project, self.on_outputs, self.interval, self.clock = project, on_outputs, interval, clock
        self._chosen = (sample, list(node_ids))
        self._views: LayerOutputs | None = None
        self._last = -math.inf

    def select(
        self, sample: torch.Tensor | tuple[torch.Tensor, ...] | None = None, node_ids: list[str] | None = None
    ) -> None:
        old_sample, old_ids = self._chosen
        self._chosen = (old_sample if sample is None else sample, old_ids if node_ids is None else list(node_ids))

    def attach(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self._views = LayerOutputs(self.project, model)
        self._last = -math.inf

    def after_batch(self, step: int, loss: float) -> None:
        now = self.clock()
        if self._views is None or now - self._last < self.interval:
            return
        self._last = now
        sample, node_ids = self._chosen
        if node_ids:
            self.on_outputs(step, self._views.outputs(sample, node_ids))

    def detach(self) -> None:
        self._views = None


def summarise(node_id: str, name: str, out: torch.Tensor) -> NodeOutput:
    """The small arrays a view draws, and the numbers it prints, for one sample's output."""
    shape = tuple(out.shape)
    values = out.flatten() if out.numel() else torch.zeros(1)
    summary = NodeOutput(
        node_id,
        name,
        shape,
        "value",
        minimum=float(values.min()),
        maximum=float(values.max()),
        mean=float(values.mean()),
        zeros=float((values == 0).float().mean()),
        tensor=out,
    )
    if out.ndim == 3:
        summary.kind = "maps"
        maps = out[:MAX_CHANNELS]
        if max(maps.shape[1:]) > MAX_SIDE:
            maps = F.adaptive_avg_pool2d(maps[None], _smaller(maps.shape[1], maps.shape[2]))[0]
        summary.maps = maps.numpy()
    elif out.ndim == 2:
        summary.kind = "sequence"
        heat = out
        if max(heat.shape) > MAX_SIDE:
            heat = F.adaptive_avg_pool2d(heat[None, None], _smaller(heat.shape[0], heat.shape[1]))[0, 0]
        summary.heat = heat.numpy()
    elif out.ndim == 1:
        summary.kind = "vector"
        summary.vector = out[:MAX_VALUES].numpy()
    elif out.ndim > 3:  # [C, D, H, W]: the middle slice of each channel
        summary.kind = "maps"
        middle = out[:MAX_CHANNELS].flatten(1, -3)
        summary.maps = middle[:, middle.shape[1] // 2].numpy()
    return summary


def _smaller(height: int, width: int) -> tuple[int, int]:
    return min(height, MAX_SIDE), min(width, MAX_SIDE)


def sample_of(data: Any, index: int, split: str = "test") -> torch.Tensor:
    """Sample ``index`` of a dataset split as the network sees it (normalised, reshaped), without batch."""
    tensor = getattr(data, f"x_{split}", None)
    if tensor is not None:
        if not 0 <= index < len(tensor):
            raise InspectError(f"There is no sample {index} in the {split} split (it has {len(tensor)}).")
        return tensor[index]
    held = getattr(data, f"{split}_set", None)
    if held is None or not 0 <= index < len(held):
        raise InspectError(f"There is no sample {index} in the {split} split.")
    return held[index][0]
