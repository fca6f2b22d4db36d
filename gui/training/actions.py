"""What the result buttons do: export the weights, the training script or ONNX, open the run folder; and the
prediction helper the results views use (inference only; training itself lives in core)."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

log = logging.getLogger(__name__)


def predictor(model: Any, loss_name: str, batch: int = 4096) -> Callable[[np.ndarray], np.ndarray] | None:
    """``f(samples) -> class indices`` for a trained torch model (eval mode, no gradients), or None."""
    if model is None:
        return None
    import torch

    from core.portable.steps import predict as classes_of

    try:
        device = next(model.parameters()).device
    except (StopIteration, AttributeError):
        device = torch.device("cpu")

    def predict(samples: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(samples))
        if x.is_floating_point():
            x = x.float()
        was_training = model.training
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(x), batch):
                outputs = model(x[start : start + batch].to(device))
                out.append(classes_of(outputs.float(), loss_name).cpu())
        model.train(was_training)
        return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)

    return predict


# -- asking the user (tests replace these) ------------------------------------------------------------------
def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def inform(parent: QWidget, title: str, message: str, *, error: bool = False) -> None:
    """A plain message (never a traceback); logged only when there is no screen to show it on."""
    from PySide6.QtWidgets import QApplication

    log.info("%s: %s", title, message)
    if QApplication.platformName() in ("offscreen", "minimal"):
        return
    (QMessageBox.warning if error else QMessageBox.information)(parent, title, message)


def _slug(text: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
    return cleaned or "model"


# -- the buttons ------------------------------------------------------------------------------------------
def export_weights(parent: QWidget, model: Any, project: Any) -> Path | None:
    if model is None:
        inform(parent, "Export weights", "Train the network first: there are no trained weights yet.", error=True)
        return None
    name = _slug(getattr(project, "name", "model"))
    path = ask_save_path(parent, "Export trained weights", f"{name}_weights.pt", "PyTorch weights (*.pt *.pth)")
    if not path:
        return None
    import torch

    try:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save(state, path)
    except (OSError, RuntimeError) as exc:
        inform(parent, "Export weights", f"Could not write {path}: {exc}", error=True)
        return None
    how = "Load them with model.load_state_dict(torch.load(path))."
    inform(parent, "Export weights", f"Saved the weights to {path}.\n{how}")
    return Path(path)


def export_script(parent: QWidget, project: Any) -> Path | None:
    if project is None:
        return None
    from core.script import generate_script

    try:
        source = generate_script(project).source
    except Exception as exc:  # CodegenError lists the graph's problems in plain words
        inform(parent, "Export training script", str(exc), error=True)
        return None
    path = ask_save_path(parent, "Export training script", f"{_slug(project.name)}_train.py", "Python (*.py)")
    if not path:
        return None
    try:
        Path(path).write_text(source, encoding="utf-8")
    except OSError as exc:
        inform(parent, "Export training script", f"Could not write {path}: {exc.strerror or exc}", error=True)
        return None
    inform(parent, "Export training script", f"Saved {path}.\nRun it with: python {Path(path).name}")
    return Path(path)


def onnx_problem() -> str | None:
    """Why ONNX export is not possible here, in words; None when it is."""
    if importlib.util.find_spec("core.export") is None:
        return "ONNX export is not part of this version of TorchCanvas yet."
    if importlib.util.find_spec("onnx") is None:
        return "ONNX export needs the onnx package: pip install 'torchcanvas[export]'"
    return None


def export_onnx(parent: QWidget, model: Any, project: Any) -> Path | None:
    problem = onnx_problem()
    if problem is None and model is None:
        problem = "Train the network first: there is no trained model to export yet."
    if problem:
        inform(parent, "Export ONNX", problem, error=True)
        return None
    path = ask_save_path(parent, "Export ONNX model", f"{_slug(project.name)}.onnx", "ONNX model (*.onnx)")
    if not path:
        return None
    import core.export as export

    try:
        export.export_onnx(project, path, model=model)
    except Exception as exc:
        inform(parent, "Export ONNX", f"The model could not be exported to ONNX: {exc}", error=True)
        return None
    inform(parent, "Export ONNX", f"Saved {path}.")
    return Path(path)


def open_folder(parent: QWidget, result: Any) -> bool:
    run_dir = getattr(result, "run_dir", None)
    if not run_dir or not Path(run_dir).is_dir():
        inform(parent, "Open run folder", "This run has no folder on disk.", error=True)
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(run_dir)))
