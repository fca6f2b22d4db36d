"""The export formats, one descriptor each: every place that lists exports reads this registry.

The CLI's ``--format`` choices, the File > Export menu and a finished run's export buttons are built from
``EXPORT_FORMATS``, so a new format is one entry here plus its writer in ``core.files.export``. This module imports
neither torch nor Qt: the CLI builds its parser and the GUI its menu without loading the exporters.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from core.files.export import ExportResult
    from core.files.project import Project

Weights = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class ExportFormat:
    """One export format: how it is named, offered and written."""

    id: str  # the CLI's --format value
    label: str  # "Export <label>…" in File > Export and as a dialog title; a run's button says "<Label>…"
    suffix: str  # end of the CLI's default output name: net.json -> net.onnx
    file_filter: str  # the save dialog's filter
    help: str  # tooltip
    writer: str  # name of its function in core.files.export: writer(project, out, weights) -> ExportResult
    weights: Weights = "none"  # trained weights (a run): not used, used when there are some, or needed
    extra: str = ""  # optional package it needs (pip install "torchcanvas[export]"); "" when none
    dialog_suffix: str = ""  # end of the name a save dialog suggests, when it differs from ``suffix``
    run_button: bool = True  # offered among a finished run's buttons (all are in File > Export)
    module: str = "core.files.export"  # where ``writer`` lives
    holds_weights: bool = True  # the file holds the weights it uses (untrained ones get a note); predict.py loads them

    @property
    def suggested_suffix(self) -> str:
        return self.dialog_suffix or self.suffix

    @property
    def uses_weights(self) -> bool:
        """Whether what it writes depends on a training run (untrained weights get a note)."""
        return self.weights != "none"

    def write(self, project: Project, out: str | Path, weights: str | Path | None = None) -> ExportResult:
        """Write ``project`` to ``out`` (atomically, through core.files.fileio); raises ExportError with the fix."""
        function = getattr(importlib.import_module(self.module), self.writer)
        result: ExportResult = function(project, out, weights)
        return result


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.id: f
    for f in (
        ExportFormat(
            "script",
            "training script",
            ".py",
            "Python (*.py)",
            "A standalone Python file that rebuilds the model and reproduces this run.",
            "export_script",
            dialog_suffix="_train.py",
        ),
        ExportFormat(
            "model",
            "model code",
            "_model.py",
            "Python files (*.py)",
            "Only the nn.Module class, importable on its own.",
            "export_model_source",
            run_button=False,
        ),
        ExportFormat(
            "weights",
            "weights",
            ".pt",
            "PyTorch weights (*.pt);;safetensors (*.safetensors)",
            "Save the trained state_dict (.pt) to load with model.load_state_dict().",
            "export_weights",
            weights="required",
            dialog_suffix="_weights.pt",
        ),
        ExportFormat(
            "onnx",
            "ONNX",
            ".onnx",
            "ONNX model (*.onnx)",
            "The trained model in ONNX format, for other runtimes (needs the onnx package).",
            "export_onnx",
            weights="optional",
            extra="onnx",
        ),
        ExportFormat(
            "pt2",
            ".pt2 program",
            ".pt2",
            "torch.export program (*.pt2)",
            "The trained model as a torch.export program (.pt2), loadable with torch.export.load.",
            "export_pt2",
            weights="optional",
        ),
        ExportFormat(
            "predict",
            "prediction script",
            "_predict.py",
            "Python (*.py)",
            "predict.py: the trained network on one image file, table row or sentence, prepared as training prepared "
            "its data (python predict.py INPUT prints the class and its probability).",
            "export_predict",
            weights="optional",
            module="core.files.export_text",
            holds_weights=False,
            run_button=False,  # File > Export: one more button would widen a run's row past a 1280-pixel window
        ),
        ExportFormat(
            "keras",
            "Keras script",
            "_keras.py",
            "Python (*.py)",
            "The same network and training as a Keras 3 script (compile/fit, torch backend; needs keras).",
            "export_keras",
            run_button=False,
            module="core.files.export_text",
        ),
        ExportFormat(
            "notebook",
            "Jupyter notebook",
            ".ipynb",
            "Jupyter notebook (*.ipynb)",
            "The training script as notebook cells, each step beside its Keras equivalent (needs nbformat).",
            "export_notebook",
            extra="notebook",
            run_button=False,
            module="core.files.export_text",
        ),
    )
}
FORMATS: tuple[str, ...] = tuple(EXPORT_FORMATS)
