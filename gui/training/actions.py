"""What the result buttons and File > Export do: write one of ``core.files.export_formats``, open the run folder;
and the prediction helper the results views use (inference only; training itself lives in core)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from core.errors import TorchCanvasError
from core.files.export_formats import EXPORT_FORMATS

if TYPE_CHECKING:
    from core.files.export import ExportResult
    from core.files.project import Project
    from core.training.events import TrainResult
    from gui.shell.mainwindow import MainWindow

log = logging.getLogger(__name__)
UNNAMED = ("", "untitled", "model", "net", "network")  # names that say nothing about the network


def file_stem(project_name: str, path: str | Path | None = None) -> str:
    """The start of every suggested export file name: 'Digits MLP' -> 'digits_mlp'. A project still called
    'Untitled' uses its file's name, and one with neither is a 'network' (never 'untitled_train.py' or
    'model_model.py')."""
    for text in (project_name, Path(path).stem if path else ""):
        slug = "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
        if slug not in UNNAMED:
            return slug
    return "network"


def predictor(model: Any, loss_name: str, batch: int = 4096) -> Callable[[np.ndarray], np.ndarray] | None:
    """``f(samples) -> class indices`` for a trained torch model (eval mode, no gradients), or None."""
    if model is None:
        return None
    # Deferred for start-up: torch (this module loads with the window's menus, before the first paint).
    import torch

    from core.portable.steps import classes_of

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


def _stem(project: Project) -> str:
    return file_stem(project.name)


UNTRAINED = "Note: these weights are untrained ({why}), so the model's answers are random. Train it, then export again."


def untrained_because(result: TrainResult | None) -> str:
    """Why the weights an export would write have not learned anything yet ('' when they have)."""
    if result is None or trained_weights(result) is None:
        return "no training run yet: freshly initialised"
    if not getattr(result, "history", None):
        return "the run ended before its first epoch finished"
    return ""


# -- the buttons (each writes through core.files.export, the code path the CLI uses too) -------------------------------
def trained_weights(result: TrainResult | None) -> Path | None:
    """The final weights of a run (what the results views show), or None when the run saved none."""
    run_dir = getattr(result, "run_dir", None)
    if not run_dir:
        return None
    last = Path(run_dir) / "last.pt"
    return last if last.is_file() else None


def _export(
    parent: QWidget, title: str, suggested: str, filters: str, write: Callable[[str], Any], note: str = ""
) -> Path | None:
    path = ask_save_path(parent, title, suggested, filters)
    if not path:
        return None
    try:
        done = write(path)
    except TorchCanvasError as exc:  # ExportError names the missing package or the failing layer
        inform(parent, title, str(exc), error=True)
        return None
    except OSError as exc:
        inform(parent, title, f"Could not write {path}: {exc.strerror or exc}", error=True)
        return None
    details = getattr(done, "details", "")
    inform(parent, title, f"Saved {path}." + (f"\n{details}" if details else "") + (f"\n\n{note}" if note else ""))
    return Path(path)


def export_as(
    parent: QWidget,
    fmt_id: str,
    result: TrainResult | None,
    project: Project | None,
    project_path: str | Path | None = None,
) -> Path | None:
    """Ask for a file and write ``project`` in one of ``core.files.export_formats.EXPORT_FORMATS``. A format that needs
    trained weights refuses without a run; one that uses them when there are some writes the file all the same
    and says it is untrained. A training script gets the imported weights beside it (``project_path``'s)."""
    fmt = EXPORT_FORMATS[fmt_id]
    weights = trained_weights(result) if fmt.uses_weights else None
    if project is None or (fmt.weights == "required" and weights is None):
        if fmt.weights == "required":
            inform(
                parent, f"Export {fmt.label}", "Train the network first: there are no trained weights yet.", error=True
            )
        return None
    why = untrained_because(result) if fmt.uses_weights and fmt.holds_weights else ""

    def write(path: str) -> ExportResult:
        from core.files.export import check_output  # deferred for start-up: the exporter imports torch

        check_output(path)  # never over a project file (the open one included), as the CLI without --force
        if fmt_id in ("script", "notebook") and project_path is not None:  # as the CLI: the weights go beside it
            from core.files.export import export  # deferred for start-up, as check_output above

            return export(project, fmt_id, path, weights, project_path=project_path)
        return fmt.write(project, path, weights)

    return _export(
        parent,
        f"Export {fmt.label}",
        f"{_stem(project)}{fmt.suggested_suffix}",
        fmt.file_filter,
        write,
        UNTRAINED.format(why=why) if why else "",
    )


def export_from_window(window: MainWindow, fmt_id: str) -> Path | None:
    """File > Export: the last run's network and weights when the format uses them, else the open project."""
    dashboard = window.training_dashboard  # None until the window docked one
    result = dashboard.last_result if dashboard is not None else None
    run_project = dashboard.run_project if dashboard is not None else None
    use_run = EXPORT_FORMATS[fmt_id].uses_weights and run_project is not None and result is not None
    project = run_project if use_run else window.document.project
    return export_as(window, fmt_id, result, project, window.document.path)


def export_weights(parent: QWidget, result: TrainResult | None, project: Project | None) -> Path | None:
    return export_as(parent, "weights", result, project)


def export_script(parent: QWidget, project: Project | None) -> Path | None:
    return export_as(parent, "script", None, project)


def export_onnx(parent: QWidget, result: TrainResult | None, project: Project | None) -> Path | None:
    """The trained model as ONNX; without a trained run the file is still written, and says it is untrained."""
    return export_as(parent, "onnx", result, project)


def open_folder(parent: QWidget, result: TrainResult | None) -> bool:
    run_dir = getattr(result, "run_dir", None)
    if not run_dir or not Path(run_dir).is_dir():
        inform(parent, "Open run folder", "This run has no folder on disk.", error=True)
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(run_dir)))
