"""Tracing a module with ``torch.fx`` into a graph of calls, and saying in the user's words why it failed.

Catalog layers (``nn.Conv2d``, ``nn.ReLU``, …, and the few classes from elsewhere a kind names, such as
torchvision's ``StochasticDepth``) and every other ``torch.nn`` layer stay whole (one
``call_module`` node each, so a ``LocalResponseNorm`` can be named as unsupported instead of vanishing into
functional calls); the user's own modules and torchvision's blocks are traced through, and the module stack fx
records for each node (``nn_module_stack``) later becomes the blocks.
"""

from __future__ import annotations

import inspect
import os
import traceback
from typing import Any

import torch
from torch import fx, nn

from core.errors import TorchCanvasError
from core.fx_import.shape_trace import shape_tracer
from core.model.kinds import imported_classes

_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # core/: the line that ran the user's code
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class ModelImportError(TorchCanvasError):
    """The model cannot be imported; ``problems`` holds one plain message per cause."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LeafTracer(fx.Tracer):
    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, _CONTAINERS):
            return False
        cls = type(m)
        return cls.__module__.startswith("torch.nn") or f"{cls.__module__}.{cls.__qualname__}" in imported_classes()


def user_frame(summary: list[traceback.FrameSummary]) -> str:
    """``file.py:12: x = ...`` for the last frame outside torch's own files (the user's line), or ""."""
    for frame in reversed(summary):
        if not frame.filename.startswith((_TORCH_DIR, _OWN_DIR, "<")):
            code = (frame.line or "").strip()
            return f"{_short(frame.filename)}:{frame.lineno}" + (f" (`{code}`)" if code else "")
    return ""


def _short(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if "site-packages" in path else path


def node_line(node: fx.Node) -> str:
    """The user's line that made a traced node, from the stack fx recorded."""
    return user_frame(_frames(node))


def node_place(node: fx.Node) -> tuple[str, int] | None:
    """The file and line number of the user's line that made a traced node (its source read again), or None."""
    for frame in reversed(_frames(node)):
        if not frame.filename.startswith((_TORCH_DIR, _OWN_DIR, "<")):
            return frame.filename, int(frame.lineno or 0)
    return None


def _frames(node: fx.Node) -> list[traceback.FrameSummary]:
    text = node.stack_trace or ""
    frames: list[traceback.FrameSummary] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        line = line.strip()
        if line.startswith('File "'):
            name, _, rest = line[6:].partition('", line ')
            number = rest.split(",")[0]
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if number.isdigit():
                frames.append(traceback.FrameSummary(name, int(number), "", line=code))
    return frames


def module_path(node: fx.Node, leaf: bool = False) -> str:
    """``model.layer3.attn``: the innermost module the node ran in (for a call_module node, itself)."""
    if leaf and node.op == "call_module":
        return f"model.{node.target}"
    stack = node.meta.get("nn_module_stack") or {}
    paths = [value[0] for value in stack.values()]
    return "model" + (f".{paths[-1]}" if paths else "")


def module_type(root: nn.Module, path: str) -> str:
    try:
        return type(root.get_submodule(path.removeprefix("model").lstrip("."))).__name__
    except AttributeError:
        return "module"


def settings(module: nn.Module) -> dict[str, Any]:
    """forward's arguments with a default (``targets=None``, ``has_mask=True``): settings, not inputs. They are
    traced at their default, so an ``if`` on them is decided, as when the model is called with its inputs only."""
    try:
        parameters = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: p.default for p in parameters if p.kind in kinds and p.default is not inspect.Parameter.empty}


def _drop_settings(graph: fx.Graph, module: nn.Module, fixed: dict[str, Any]) -> None:
    """fx keeps a specialised argument as an input with a check that it has its value: both go."""
    names = [n for n in inspect.signature(module.forward).parameters if n not in ("args", "kwargs")]
    for node, name in zip([n for n in graph.nodes if n.op == "placeholder"], names, strict=False):
        if name not in fixed:
            continue
        for user in list(node.users):  # `eq` then `torch._assert`, or `_assert_is_none`
            for check in list(user.users):
                graph.erase_node(check)
            graph.erase_node(user)
        graph.erase_node(node)


def trace(
    module: nn.Module,
    samples: list[torch.Tensor] | None = None,
    states: tuple[str, ...] | list[str] = (),
    batch_dim: int = 0,
) -> fx.GraphModule:
    """The traced graph; a failure is a ModelImportError naming the module, the line and the fix. With
    ``samples`` (one per input, as the model reads them: the batch is dimension ``batch_dim``), a trace that fails
    is tried again knowing the shapes (``shape_trace``); the inputs named in ``states`` (a recurrent layer's
    starting state) are traced as None (zeros). What forward writes on its modules while traced
    (word_language_model's ``self.src_mask = mask``) is put back."""
    kept = _attributes(module)
    try:
        return _trace(module, samples, states, batch_dim)
    finally:
        for owner, values in kept:
            owner.__dict__.update(values)


def _attributes(module: nn.Module) -> list[tuple[nn.Module, dict[str, Any]]]:
    return [(m, {k: v for k, v in vars(m).items() if not k.startswith("_")}) for m in module.modules()]


def _trace(
    module: nn.Module, samples: list[torch.Tensor] | None, states: tuple[str, ...] | list[str], batch_dim: int
) -> fx.GraphModule:
    tracer = LeafTracer()
    fixed = {**settings(module), **dict.fromkeys(states)}
    try:
        graph = tracer.trace(module, concrete_args=fixed or None)
    except ModelImportError:
        raise
    except Exception as exc:
        message = _explain(exc, tracer, module)
        tracer = _with_shapes(module, samples, set(fixed), batch_dim)  # type: ignore[assignment]
        try:
            graph = tracer.trace(module, concrete_args=fixed or None) if tracer is not None else None
        except Exception:
            graph = None
        if graph is None:
            raise ModelImportError([message]) from None
    assert graph is not None
    if fixed:
        _drop_settings(graph, module, fixed)
    _drop_unused_reads(graph)
    gm = fx.GraphModule(tracer.root, graph, type(module).__name__)
    reads = sorted(getattr(tracer, "device_reads", ()))
    gm.meta["notes"] = (
        [f"forward asks where its input lives ({', '.join(reads)}): the drawing is the model as it runs on the CPU."]
        if reads
        else []
    )
    gm.meta["original"] = module  # gm keeps only the modules called: containers (ModuleList) become plain ones
    return gm


def _drop_unused_reads(graph: fx.Graph) -> None:
    """Values nothing uses that only read or make a tensor (a constant, its ``.to(device)``, a size, a
    ``torch.arange``): a shape trace leaves some behind, made again where Python evaluated it."""
    for node in reversed(list(graph.nodes)):
        reads = node.op == "get_attr" or (node.op == "call_method" and node.target in ("to", "size", "dim"))
        made = node.op == "call_function" and node.target in (getattr, torch.arange)  # nanoGPT's positions
        if not node.users and (reads or made):
            graph.erase_node(node)


def _with_shapes(
    module: nn.Module, samples: list[torch.Tensor] | None, fixed: set[str], batch_dim: int
) -> fx.Tracer | None:
    if not samples:
        return None
    tracer: fx.Tracer = shape_tracer(LeafTracer, module, samples, fixed, batch_dim)
    return tracer


def inputs_of(gm: fx.GraphModule) -> list[fx.Node]:
    return [n for n in gm.graph.nodes if n.op == "placeholder"]


def _explain(exc: Exception, tracer: LeafTracer, root: nn.Module) -> str:
    stack = getattr(tracer, "module_stack", {}) or {}
    paths = [value[0] for value in stack.values()] if isinstance(stack, dict) else []
    where = "model" + (f".{paths[-1]}" if paths and paths[-1] else "")
    kind = module_type(root, where)
    line = user_frame(traceback.extract_tb(exc.__traceback__))
    at = f" at {line}" if line else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if (
        isinstance(exc, fx.proxy.TraceError)
        or "symbolically traced variables cannot be used as inputs to control flow" in text
    ):
        return (
            f"`{where}` (a `{kind}`) decides what to compute from the values of its input{at}: an `if`, a loop or "
            "a `bool()` on a tensor cannot become a fixed drawing (torch.fx: " + text + "). Make the choice a "
            "constructor setting, or import a version of the model without it."
        )
    if "'len' is not supported" in text:  # torch.fx's own words suggest torch.fx.wrap, no help to a learner
        return (
            f"`{where}` (a `{kind}`) takes len() of a tensor{at}: that is its first dimension, the batch in a "
            "drawing, which stays free, so nothing can be built from it. A model that reads its sequence length "
            "there (sequence first) cannot be drawn: build it batch first, or use x.size(1) for the length."
        )
    if "iteration" in text.lower() or "iterable" in text.lower() or "len(" in text:
        return (
            f"`{where}` (a `{kind}`) loops over or takes the length of a tensor{at}: this depends on the data and "
            f"cannot be traced ({text}). Loop over a number fixed in the constructor instead."
        )
    return f"Tracing `{where}` (a `{kind}`) failed{at}: {text}."


def shape_of(node: Any) -> tuple[int, ...] | None:
    meta = getattr(node, "meta", {}).get("tensor_meta") if isinstance(node, fx.Node) else None
    shape = getattr(meta, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else None


def dtype_of(node: fx.Node) -> str:
    meta = node.meta.get("tensor_meta")
    dtype = getattr(meta, "dtype", torch.float32)
    return "int64" if dtype in (torch.int64, torch.int32) else "float32"
