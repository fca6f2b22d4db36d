"""Code to canvas: an existing ``nn.Module`` becomes a TorchCanvas project with blocks, and keeps its weights.

``import_model(module, input_shape)`` traces the module with torch.fx (``trace``), turns each call into a catalog
layer (``ops``, ``items``), the module hierarchy into block definitions and repeats (``hierarchy``), lays the
drawing out top to bottom, and checks the result: the generated code must have the original's state_dict keys
and give its outputs (layers forward never calls are left out with a note: ``unused``). ``load_source`` makes the
module from ``file.py:Class`` or ``torchvision:NAME``; ``core.files.initial_weights`` keeps the weights
beside the project.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.passes.shape_prop import ShapeProp

from core.errors import TorchCanvasError
from core.files.project import Project
from core.fx_import.hierarchy import build
from core.fx_import.items import flatten
from core.fx_import.tied import tied_note
from core.fx_import.time_major import Calling, reads_time_first, relayout, time_major_inputs
from core.fx_import.trace import ModelImportError, inputs_of, node_line, trace
from core.fx_import.unused import never_called, note
from core.fx_import.verify import verify
from core.model.graph import Graph
from core.model.layout import layered_layout

__all__ = ["ImportResult", "ModelImportError", "import_model"]


@dataclass
class ImportResult:
    project: Project
    state: dict[str, torch.Tensor]  # the weights, keyed as the generated code's state_dict
    max_difference: float | None = None  # largest output difference against the original (eval mode)
    seconds: dict[str, float] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)  # the modules forward called (eval mode), by qualified name
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the original's keys of layers never called (``unused``)
    calling: Calling = field(default_factory=Calling)  # how the original is called and compared (``time_major``)


def _shapes(gm: Any, samples: list[torch.Tensor]) -> None:
    class Recording(ShapeProp):  # type: ignore[misc]  # the node that fails: the user's layer and line to name
        current: Any = None

        def run_node(self, n: Any) -> Any:
            self.current = n
            return super().run_node(n)

    quiet = contextlib.redirect_stderr(io.StringIO())  # ShapeProp prints a traceback of its own before raising
    try:  # shapes without computing (fake tensors: 4x faster on a ResNet); else a real forward pass
        with torch.no_grad(), quiet:
            ShapeProp(gm, fake_mode=FakeTensorMode(allow_non_fake_inputs=True)).propagate(*samples)
        return
    except Exception:
        pass
    prop = Recording(gm)
    try:
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            prop.propagate(*samples)
    except Exception as exc:
        cause = exc.__cause__ or exc  # ShapeProp wraps the layer's own error in a long one about the fx node
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise ModelImportError([_run_failure(gm, prop.current, samples, text[:300])]) from None


def _run_failure(gm: Any, node: Any, samples: list[torch.Tensor], text: str) -> str:
    """Why the forward pass failed, blaming the right one: a layer that fails after learned layers ran on the
    input (``fc`` took the 10 features given, ``fc2`` expects 6 of its 5) is a mistake in the model's code, named
    at the user's line; a failure before any learned layer is the input's shape (--input-shape)."""
    given = "; ".join(f"{list(x.shape)}{'' if x.is_floating_point() else ' (int64)'}" for x in samples)
    what = "an input" if len(samples) == 1 else "inputs"
    advice = (
        "Give the shape of one sample with --input-shape C,H,W (e.g. 1,28,28 for MNIST, 3,224,224 for ImageNet "
        "models; several inputs: '3,32,32;10'), and --input-dtype int64 for token ids."
    )
    if node is None or node.op in ("placeholder", "output"):
        return f"The model does not run on {what} of shape {given}: {text}. {advice}"
    line = node_line(node)
    name = str(node.target) if node.op == "call_module" else node.name
    layer = f" ({gm.get_submodule(str(node.target))})" if node.op == "call_module" else ""
    where = f"{name}{layer} at {line}" if line else f"{name}{layer}"
    ran = [n for n in _ancestors(node) if n.op == "call_module" and _learned(gm, n)]
    if not ran:  # the input reaches this layer unchanged in size: the input shape does not fit the model
        return f"The model does not run on {what} of shape {given}: {where} fails: {text}. {advice}"
    receives = ", ".join(
        str(list(a.meta["tensor_meta"].shape)) for a in node.all_input_nodes if "tensor_meta" in a.meta
    )
    got = f" receives {receives} and" if receives else ""
    first = sorted(ran, key=lambda n: list(gm.graph.nodes).index(n))[0]
    spatial = any(
        isinstance(gm.get_submodule(str(n.target)), (nn.Conv2d, nn.Conv1d, nn.Conv3d))
        for n in ran
        if n.op == "call_module"
    )
    images = (
        " If the model was written for other image sizes, give that size with --input-shape C,H,W."
        if (spatial and len(samples[0].shape) > 2)
        else ""
    )
    return (
        f"{where}{got} fails: {text}. The layers before it ran on the {what[3:] if len(samples) == 1 else what} "
        f"of shape {given} "
        f"({first.target} took it), so the mistake is likely in the model's own code: check {name}'s sizes "
        f"against what the layer before it gives.{images}"
    )


def _ancestors(node: Any) -> list[Any]:
    seen: dict[Any, None] = {}
    stack = list(node.all_input_nodes)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen[n] = None
            stack.extend(n.all_input_nodes)
    return list(seen)


def _learned(gm: Any, node: Any) -> bool:
    return any(True for _ in gm.get_submodule(str(node.target)).parameters())


def _inputs(gm: Any, module: nn.Module, shapes: list[list[int]], dtype: str | None) -> list[tuple[str, int]]:
    """Each input's dtype and, for token ids, how many ids there are (the smallest Embedding it feeds): an
    input that goes into an Embedding holds token ids (int64) unless ``dtype`` says otherwise."""
    placeholders = inputs_of(gm)
    if len(placeholders) != len(shapes):
        names = ", ".join(str(p.target) for p in placeholders)
        takes = f"{len(placeholders)} input{'s' if len(placeholders) != 1 else ''} ({names})"
        given = f"{len(shapes)} shape{'s were' if len(shapes) != 1 else ' was'} given"
        raise ModelImportError(
            [
                f"{type(module).__name__}.forward takes {takes} but {given}: give one sample's shape per input, "
                "separated by ';' (--input-shape '3,32,32;10')."
            ]
        )
    found = []
    for node in placeholders:
        vocab = [
            int(gm.get_submodule(str(u.target)).num_embeddings)
            for u in node.users
            if u.op == "call_module" and isinstance(gm.get_submodule(str(u.target)), nn.Embedding)
        ]
        found.append((dtype or ("int64" if vocab else "float32"), min(vocab) if vocab else 2))
    return found


def _state_inputs(gm: Any, module: nn.Module) -> tuple[list[str], list[str]]:
    """The inputs of forward that are the starting state of a recurrent layer (word_language_model's ``hidden``,
    built by ``init_hidden`` as zeros), and the notes saying so. A drawing's recurrent layer starts from zeros: the
    model is traced with those inputs left out (None: torch's zeros), so it is the model called with a state of
    zeros, and the check calls it so."""
    names: list[str] = []
    notes: list[str] = []
    for placeholder in inputs_of(gm):
        for user in placeholder.users:
            if user.op != "call_module" or placeholder not in (*user.args[1:], *user.kwargs.values()):
                continue
            layer = gm.get_submodule(str(user.target))
            if not isinstance(layer, nn.RNNBase) or str(placeholder.target) in names:
                continue
            names.append(str(placeholder.target))
            built = ", as init_hidden builds it" if callable(getattr(module, "init_hidden", None)) else ""
            notes.append(
                f"`{placeholder.target}`, an input of {type(module).__name__}.forward, is the starting state of "
                f"`model.{user.target}` (an `nn.{type(layer).__name__}`): the drawing's {type(layer).__name__} "
                f"starts from zeros{built}, so it has no input for it; a state carried over from the batch before "
                "is not drawn."
            )
    return names, notes


_TIME_FIRST = (
    "The model reads its sequences time first ([steps, batch, ...]); the drawing reads them batch first, as every "
    "drawing does, with the same layers and weights: give it the same data with the first two dimensions swapped."
)


def _layout(graph: Graph) -> None:
    for g in (graph, *(defn.graph for defn in graph.blocks.values())):  # top to bottom, one stage under another
        for node_id, pos in layered_layout(g, "tb", column_gap=150.0, row_gap=240.0, origin=(0.0, 0.0)).items():
            g.node(node_id).pos = pos


def import_model(
    module: nn.Module,
    input_shape: list[int] | tuple[int, ...] | list[list[int]],
    *,
    name: str = "",
    state: dict[str, torch.Tensor] | None = None,
    check: bool = True,
    input_dtype: str | None = None,
) -> ImportResult:
    """The project for ``module`` (one sample of ``input_shape``, without the batch; a list of shapes for a
    forward with several inputs); ``state`` replaces the module's own weights; ``input_dtype`` "int64" for token
    ids (found by itself for an input that goes into an Embedding). Raises ModelImportError with one message per
    cause."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    shapes = _shape_list(input_shape)
    was_training = module.training
    module.eval()
    try:
        if state is not None:
            _load_user_state(module, state)
        zeros = [torch.zeros(1, *s, dtype=getattr(torch, input_dtype or "float32")) for s in shapes]
        batch_dim = 1 if reads_time_first(module) else 0  # the batch is dimension 1 of what the model reads
        if batch_dim:
            zeros = [z.transpose(0, 1) for z in zeros]
        gm = trace(module, zeros, batch_dim=batch_dim)
        states, notes = _state_inputs(gm, module)
        if states:
            gm = trace(module, zeros, states, batch_dim)
        times["trace"] = time.perf_counter() - start
        kinds = _inputs(gm, module, shapes, input_dtype)
        calling = Calling(zero_states=states)
        major = time_major_inputs(gm)
        calling.transposed = [p in major for p in inputs_of(gm)]
        samples = [torch.zeros(1, *s, dtype=getattr(torch, d)) for s, (d, _) in zip(shapes, kinds, strict=True)]
        _shapes(gm, calling.original_inputs(samples))
        if major:
            problems, more = relayout(gm, major, calling)
            if problems:
                raise ModelImportError(problems)
            notes += [_TIME_FIRST, *more]
        flat = flatten(gm)
        if flat.problems:
            raise ModelImportError(flat.messages())
        try:
            graph, library = build(flat, shapes[0])
        except ModelImportError:
            raise
        except TorchCanvasError as exc:
            raise ModelImportError([str(exc)]) from None
        graph.blocks = library
        _layout(graph)
        title = name or type(module).__name__
        project = Project(graph, title, f"Imported from the PyTorch model {type(module).__name__}.")
        project.training.dataset = ""  # no data fits a model known only by its code: the user chooses (check notes it)
        if _ends_in_log_softmax(graph):  # pytorch/examples' MNIST net: CrossEntropyLoss would apply a second softmax
            project.training.loss = "NLLLoss"
        times["build"] = time.perf_counter() - start
        skipped, uncalled = never_called(gm, module)
        left_out = set(skipped)
        own = {k: v.detach().clone() for k, v in module.state_dict().items() if k not in left_out}
        notes = [*gm.meta.get("notes", []), *notes]
        result = ImportResult(project, own, seconds=times, notes=notes, skipped=skipped, calling=calling)
        if uncalled:
            result.notes.append(note(uncalled, len(skipped)))
        tied = tied_note(module, set(own))
        if tied:
            result.notes.append(tied)
        result.called = {str(n.target) for n in gm.graph.nodes if n.op == "call_module"}
        if check:
            generator = torch.Generator().manual_seed(0)
            samples = [
                torch.randn((1, *s), generator=generator)
                if d == "float32"
                else torch.randint(0, high, (1, *s), generator=generator)
                for s, (d, high) in zip(shapes, kinds, strict=True)
            ]
            result.max_difference = verify(result, module, samples)
            times["check"] = time.perf_counter() - start
    finally:
        module.train(was_training)
    return result


def _ends_in_log_softmax(graph: Graph) -> bool:
    """Every output of the network is a LogSoftmax's (log-probabilities: NLLLoss is the loss that reads them)."""
    outputs = [n for n in graph.nodes if n.type == "Output"]
    sources = [edge.src for out in outputs for edge in graph.inputs_of(out.id) if edge is not None]
    return bool(sources) and len(sources) == len(outputs) and all(graph.node(s).type == "LogSoftmax" for s in sources)


def _shape_list(input_shape: list[int] | tuple[int, ...] | list[list[int]]) -> list[list[int]]:
    if input_shape and isinstance(input_shape[0], (list, tuple)):
        return [[int(d) for d in shape] for shape in input_shape]  # type: ignore[union-attr]
    return [[int(d) for d in input_shape]]  # type: ignore[arg-type]


def _load_user_state(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"no values for {', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}")
        if unexpected:
            parts.append(f"values for keys the model lacks ({', '.join(unexpected[:4])})")
        raise ModelImportError([f"The weights file does not fit the model: {'; '.join(parts)}."])
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ModelImportError(
                [
                    f"The weights file does not fit the model: its {key} has shape {list(value.shape)}; the model "
                    f"needs {list(own[key].shape)}."
                ]
            )
    module.load_state_dict(state)
