"""The exports that are generated text, the Keras script, the Jupyter notebook and the prediction script: code
generation gives the text (``core.code.keras_script``, ``core.code.notebook``, ``core.code.predict_script``), this
module writes it, atomically like every file the app
writes. Kept apart from ``core.files.export`` so that writing them never waits for the model-building exporters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.code import script as torch_script
from core.code.codegen import CodegenError
from core.code.keras_script import generate_keras_script
from core.code.notebook import notebook_text
from core.code.predict_script import PredictFacts, generate_predict
from core.errors import DataError, ExportError
from core.files.export import ExportResult
from core.files.fileio import atomic_write_text
from core.files.weights import find_weights

if TYPE_CHECKING:
    from core.files.project import Project


def export_keras(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """The Keras training script, written atomically; one ExportError names every layer Keras lacks."""
    torch_script.check_trainable(project, "Keras script")
    try:
        text = generate_keras_script(project)
    except (CodegenError, DataError) as exc:  # KerasExportError passes through: it already lists the layers
        raise ExportError(f"Cannot export the Keras script: {exc}", getattr(exc, "node_id", None)) from None
    target = atomic_write_text(out, text)
    return ExportResult(target, "keras", f"{len(text.splitlines())} lines")


def export_notebook(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """The Jupyter notebook (.ipynb), written atomically."""
    try:
        text = notebook_text(project)
    except (CodegenError, DataError) as exc:
        raise ExportError(f"Cannot export the notebook: {exc}", getattr(exc, "node_id", None)) from None
    target = atomic_write_text(out, text)
    cells = text.count('"cell_type": "code"')
    return ExportResult(target, "notebook", f"{cells} code cells")


def export_predict(project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
    """predict.py, with the numbers the training computed (its data loaded as training loads it; the vocabulary of
    the run folder ``weights`` names, when it has one). Weights that do not fit the network are refused here."""
    run_dir = None
    if weights is not None:
        from core.files.built_model import build_model  # deferred: it imports torch

        build_model(project, weights)  # the weights fit this network, or ExportError says why
        run_dir = find_weights(weights).parent
    try:
        text = generate_predict(project, PredictFacts.of_run(project, run_dir))
    except (CodegenError, DataError) as exc:
        raise ExportError(f"Cannot export the prediction script: {exc}", getattr(exc, "node_id", None)) from None
    target = atomic_write_text(out, text)
    return ExportResult(target, "predict", f"{len(text.splitlines())} lines; run it in the folder of model_weights.pt")
