"""Exports: the training script, the model-only module, trained weights, ONNX and ``torch.export`` (.pt2).

Every model-based export builds the network from the generated source (the same code the app shows and runs),
executed in a fresh namespace and registered with ``linecache`` so tracebacks show real lines. Weights are read
with ``torch.load(weights_only=True)`` (or safetensors), never unpickled freely. Every failure is an ExportError
that says which layer (when one is to blame), why, and what to do.

Reading weights files and run folders is ``core.files.weights``; the list of formats is ``core.files.export_formats``;
running an exporter, comparing its output with PyTorch and blaming a layer is ``core.files.export_check``.

Every file is written through ``core.files.fileio``: to a temporary file (or folder) beside the output and moved over
it only once written and checked, so a failed export (a layer that cannot be exported, a full disk) leaves the
file already there byte for byte. A full disk is named as such, never blamed on a layer. An output that is a
project file is refused unless the caller asks to overwrite it.
"""

from __future__ import annotations

import copy
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.code.codegen import CodegenError
from core.datasets.info import missing_data
from core.datasets.spec import parse_spec
from core.errors import ExportError, TorchCanvasError
from core.files.built_model import BuiltModel, build_model, generated_code, sample_inputs
from core.files.export_check import as_list, compare_outputs, quiet, run_exporter
from core.files.export_formats import EXPORT_FORMATS, FORMATS
from core.files.file_errors import FileWriteError, write_failure
from core.files.fileio import atomic_write_bytes, atomic_write_text, atomic_write_with, write_new_file
from core.files.initial_weights import carry_initial_weights, initial_weights
from core.files.project import FORMAT as PROJECT_FORMAT
from core.files.project import Project
from core.files.weights import EXTRA_HINT, WEIGHT_FILES, LoadedWeights, find_weights, load_weights, read_weights
from core.files.weights import optional_package as _optional

__all__ = [  # with the model builder and weights readers re-exported: export code reads them through here
    "EXTRA_HINT",
    "WEIGHT_FILES",
    "BuiltModel",
    "ExportResult",
    "LoadedWeights",
    "build_model",
    "check_output",
    "default_output",
    "export",
    "export_model_source",
    "export_onnx",
    "export_pt2",
    "export_script",
    "export_weights",
    "find_weights",
    "is_project_file",
    "load_weights",
    "read_weights",
    "sample_inputs",
]

ONNX_EMBED_LIMIT = 1_800_000_000  # bytes of weights; above it protobuf's 2 GB limit forces a .onnx.data sidecar


@dataclass
class ExportResult:
    """What was written, and how it was checked (shown by the CLI and the GUI)."""

    path: Path
    format: str
    details: str = ""
    max_abs_diff: float | None = None  # ONNX / pt2 output vs PyTorch on a sample batch


# --- the formats ---------------------------------------------------------------------------------------------
def export_script(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """The standalone training script that reproduces the in-app run."""
    try:
        script = importlib.import_module("core.code.script")
        script.check_trainable(project)  # a script that would crash at its first batch is not written
        code = script.generate_script(project)
    except CodegenError as exc:
        raise ExportError(f"Cannot export the script: {exc}", exc.node_id) from None
    result = _write_text(out, code.source, "script")
    if missing_data(project.training.dataset):  # check and train refuse it here; the script may run elsewhere
        away = [p for p in parse_spec(project.training.dataset).paths if not Path(p).expanduser().exists()]
        result.details += f"; note: {', '.join(away)} is not on this computer: run the script where it is"
    return result


def export_model_source(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """Only the nn.Module class, importable on its own."""
    code, _ = generated_code(project)
    return _write_text(out, code.source, "model")


def export_weights(project: Project, out: str | Path, weights: str | Path | None) -> ExportResult:
    """Trained weights as a state_dict: ``.safetensors`` when the name says so, else ``.pt`` (torch.save)."""
    if weights is None:
        raise ExportError("Exporting weights needs trained weights: pass --weights RUN_FOLDER (or a .pt file).")
    built = build_model(project, weights)  # also proves the weights fit the network
    state = {k: v.detach().cpu().contiguous() for k, v in built.module.state_dict().items()}
    target = Path(out)
    if target.suffix == ".safetensors":
        safetensors_torch = _optional("safetensors.torch", "write .safetensors weights")
        data = safetensors_torch.save(state, metadata={"format": "pt", "project": project.name[:200]})
        target = atomic_write_bytes(target, data)
    else:
        target = atomic_write_bytes(target, lambda handle: torch.save(state, handle))
    details = f"{len(state)} tensors from {built.weights}"
    return ExportResult(target, "weights", f"{details}; {built.weights_note}" if built.weights_note else details)


def export_onnx(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """One self-contained .onnx file (weights embedded), checked with onnx.checker and onnxruntime if present."""
    onnx = _optional("onnx", "export ONNX")
    _optional("onnxscript", "export ONNX")
    built = build_model(project, weights)
    inputs = sample_inputs(built, project)
    target = Path(out)
    size = sum(p.numel() * p.element_size() for p in built.module.state_dict().values())
    embed = size <= ONNX_EMBED_LIMIT

    def run(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path) -> None:
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=True,
            external_data=not embed,
            dynamic_shapes=tuple({0: torch.export.Dim.DYNAMIC} for _ in args),
            input_names=list(built.code.input_names) or None,
            verbose=False,
        )

    details = "weights embedded (one file)" if embed else "weights in a .onnx.data file beside it (over 1.8 GB)"
    diff: float | None = None

    def write_and_check(path: Path) -> None:  # in a temporary folder: the file at ``out`` changes only on success
        nonlocal details, diff
        with quiet():
            run_exporter(built, project, lambda m, a: run(m, a, path), "ONNX", inputs, target)
        try:
            onnx.checker.check_model(str(path), full_check=True)
        except Exception as exc:
            failure = write_failure(exc, target)
            if failure is not None:
                raise failure from None
            raise ExportError(f"The ONNX file failed onnx.checker: {str(exc)[:300]}") from None
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError:
            details += "; onnxruntime not installed, outputs not compared"
            return
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {arg.name: t.numpy() for arg, t in zip(session.get_inputs(), inputs)}
        got = session.run(None, feeds)
        with torch.no_grad():
            expected = as_list(built.module(*inputs))
        diff = compare_outputs(got, expected, "ONNX Runtime")
        details += f"; onnxruntime matches PyTorch (max difference {diff:.2e})"

    target = _written(target, write_and_check)
    return ExportResult(target, "onnx", details, diff)


def export_pt2(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """A ``torch.export`` program (.pt2), loadable with torch.export.load without the generating code."""
    built = build_model(project, weights)
    inputs = sample_inputs(built, project)
    target = Path(out)
    holder: dict[str, Any] = {}

    def run(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        holder["program"] = torch.export.export(
            module, args, dynamic_shapes=tuple({0: torch.export.Dim.DYNAMIC} for _ in args)
        )

    with quiet():
        run_exporter(built, project, run, "torch.export", inputs, target)
    diffs: list[float] = []

    def write_and_check(path: Path) -> None:  # in a temporary folder: the file at ``out`` changes only on success
        with quiet():
            write_new_file(path, lambda handle: torch.export.save(holder["program"], handle))
            loaded = torch.export.load(str(path))
            with torch.no_grad():
                got = as_list(loaded.module()(*inputs))
                expected = as_list(built.module(*inputs))
        diffs.append(compare_outputs(got, expected, "The reloaded .pt2 program"))

    target = _written(target, write_and_check)
    diff = diffs[0]
    return ExportResult(target, "pt2", f"reloaded and matches PyTorch (max difference {diff:.2e})", diff)


def export(
    project: Project,
    fmt: str,
    out: str | Path,
    weights: str | Path | None = None,
    *,
    project_path: str | Path | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Export ``project`` in ``fmt`` (one of FORMATS) to ``out``. An ``out`` that is the project file
    (``project_path``) or any other project file is refused unless ``overwrite`` is set."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not overwrite:
        check_output(out, project_path)
    # an untrained imported model: its own weights, for the formats that hold them. predict.py loads the
    # model_weights.pt train.py saves when it runs: ImageNet weights for a new head are not its weights to check
    if weights is None and EXPORT_FORMATS[fmt].weights != "none" and EXPORT_FORMATS[fmt].holds_weights:
        weights = initial_weights(project, project_path)
    try:
        if fmt in SCRIPT_FORMATS:
            project, carried = _weights_beside(project, project_path, out)
            result = EXPORT_FORMATS[fmt].write(project, out, weights)
            if carried is not None:
                result.details += f"; it starts from the imported weights {carried.name}, beside it"
            return result
        return EXPORT_FORMATS[fmt].write(project, out, weights)
    except TorchCanvasError as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(str(exc)) from None


SCRIPT_FORMATS = ("script", "notebook")  # they train as the app does, so start from the weights the app starts from


def _weights_beside(project: Project, project_path: str | Path | None, out: str | Path) -> tuple[Project, Path | None]:
    """The project to write a training script from, and the imported weights it starts from, put beside ``out``.

    While fine-tuning an imported network (and no initial weights are set), the app starts from the weights file
    beside the project; the script looks for it beside itself (``start_from_file``), so an export to another
    folder copies it there, under the first free name, and the script names that copy. Weights that are not
    beside the project are not copied: the app then starts from fresh weights, as the script does."""
    s = project.training
    if not s.fine_tune or s.initial_weights or initial_weights(project, project_path) is None:
        return project, None
    if not Path(out).parent.is_dir():  # the script's own write says so in its words
        return project, None
    try:  # a network the script could not train is refused before anything is copied
        importlib.import_module("core.code.script").check_trainable(project)
    except CodegenError as exc:
        raise ExportError(f"Cannot export the script: {exc}", exc.node_id) from None
    own = copy.copy(project)
    own.extra = dict(project.extra)
    try:
        carried = carry_initial_weights(own, project_path, out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExportError(
            f"Cannot put the imported weights beside {out}: {reason}. The script starts from them; "
            "choose another folder for it."
        ) from None
    return own, carried


def default_output(project_path: str | Path, fmt: str) -> Path:
    """``net.json`` -> ``net.py`` / ``net_model.py`` / ``net.pt`` / ``net.onnx`` / ``net.pt2`` in the current folder."""
    return Path(Path(project_path).stem + EXPORT_FORMATS[fmt].suffix)


# --- helpers -------------------------------------------------------------------------------------------------
def _write_text(out: str | Path, text: str, fmt: str) -> ExportResult:
    target = atomic_write_text(out, text)
    return ExportResult(target, fmt, f"{len(text.splitlines())} lines")


def _written(target: Path, write: Callable[[Path], object]) -> Path:
    """``atomic_write_with``, with a write failure reported as the ExportError that names the path and cause."""
    try:
        return atomic_write_with(target, write)
    except FileWriteError as exc:
        raise ExportError(str(exc)) from None


def is_project_file(path: str | Path) -> bool:
    """An existing file that is (or claims by its name to be) a TorchCanvas project: a ``.json`` file, or a file
    whose first bytes name the project format."""
    file = Path(path)
    try:
        if not file.is_file():
            return False
        if file.suffix.lower() == ".json":
            return True
        with file.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return PROJECT_FORMAT.encode() in head


def check_output(out: str | Path, project_path: str | Path | None = None) -> None:
    """Refuse to write an export over the project itself or over any other project file (ExportError says how
    to proceed); call with the open project's path."""
    target = Path(out)
    same = False
    if project_path is not None:
        try:
            same = target.exists() and os.path.samefile(target, project_path)
        except OSError:
            same = False
    if same:
        raise ExportError(
            f"Refusing to write the export over the project file itself ({target}): choose another output file "
            "(-o OUT), e.g. one ending in .py, .pt or .onnx."
        )
    if is_project_file(target):
        raise ExportError(
            f"Refusing to replace {target}: it is a project file (.json). Choose another name for the export "
            "(on the command line, --force replaces it)."
        )
