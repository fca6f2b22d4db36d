"""An exporter (ONNX, ``torch.export``) run on the built network and its output checked against PyTorch; a
failure blamed on the layer that caused it.

Exporters fail deep inside their tracers with messages meant for PyTorch developers. Finding which node to name
(from the generated code's lines in the traceback, or by exporting each layer alone with the shape that reaches
it) and comparing the exported program's outputs with the module's is one job, apart from choosing formats and
writing files (``core.files.export``): a new exporter reuses it as it is.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import ExportError
from core.files.built_model import BuiltModel
from core.files.file_errors import write_failure
from core.files.project import Project
from core.files.weights import first_line


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The exporters print progress and warnings meant for PyTorch developers; a beginner sees our summary."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def as_list(value: Any) -> list[Any]:
    """A network's output (one tensor or several) as a list of NumPy arrays, to compare with an exporter's."""
    items = list(value) if isinstance(value, (tuple, list)) else [value]
    return [t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t for t in items]


def compare_outputs(got: list[Any], expected: list[Any], who: str) -> float:
    if len(got) != len(expected):
        raise ExportError(f"{who} returns {len(got)} outputs; the PyTorch model returns {len(expected)}.")
    worst = 0.0
    for a, b in zip(got, expected):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise ExportError(f"{who} gives outputs of shape {list(a.shape)}; PyTorch gives {list(b.shape)}.")
        if a.size:
            worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))))
            if not np.allclose(a, b, rtol=1e-3, atol=1e-4):
                raise ExportError(f"{who} gives different results from PyTorch (max difference {worst:.3g}).")
    return worst


def run_exporter(
    built: BuiltModel,
    project: Project,
    run: Callable[[nn.Module, tuple[torch.Tensor, ...]], None],
    what: str,
    inputs: tuple[torch.Tensor, ...],
    target: Path,
) -> None:
    """Run an exporter; on failure find the layer to blame: from the error's lines in the generated code, or by
    exporting each layer on its own with the shape that reaches it. A failure to write the file (a full disk)
    is reported as such, never blamed on a layer."""
    try:
        run(built.module, inputs)
        return
    except Exception as exc:
        failure = write_failure(exc, target)
        if failure is not None:
            raise ExportError(str(failure)) from None
        reason = first_line(exc)
        node_id = node_from_error(exc, built) or probe_layers(built, project, run)
    if node_id is not None:
        node = project.graph.node(node_id)
        raise ExportError(
            f"{node.name} ({node.type}) cannot be exported to {what}: {reason}. Replace or remove this layer, "
            f"or use another format.",
            node_id,
        )
    raise ExportError(f"The network cannot be exported to {what}: {reason}")


def node_from_error(exc: BaseException, built: BuiltModel) -> str | None:
    """A generated-code line named in the traceback or the message (tracing errors quote the user's frames)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    lines: list[int] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == built.filename:
                lines.append(tb.tb_lineno)
            tb = tb.tb_next
        pattern = re.escape(built.filename) + r'"?, line (\d+)'
        lines.extend(int(m) for m in re.findall(pattern, str(current)))
        current = current.__cause__ or current.__context__
    for line in reversed(lines):
        node_id = built.code.node_at(line)
        if node_id is not None:
            return node_id
    return None


def probe_layers(
    built: BuiltModel, project: Project, run: Callable[[nn.Module, tuple[torch.Tensor, ...]], None]
) -> str | None:
    """Export each layer alone, fed a tensor of the shape that reaches it; the first that fails is to blame."""
    for node_id in built.analysis.order:
        attr = built.code.attr_names.get(node_id)
        info = built.analysis.nodes.get(node_id)
        if attr is None or info is None or not info.in_shapes or info.in_shapes[0] is None:
            continue
        shape = (2, *(d if d is not None else 2 for d in info.in_shapes[0][1:]))
        dtype = torch.int64 if project.graph.node(node_id).type == "Embedding" else torch.float32
        sample = torch.zeros(shape, dtype=dtype)
        try:
            run(getattr(built.module, attr), (sample,))
        except Exception:
            return node_id
    return None
