"""The dataset the dashboard previews: loaded as the trainer will see it, remembered by what decides its content
(``dataset_key``), and, when it cannot be loaded, why and what to do in plain words.

``PreviewLoader`` loads it in a thread: a download, a slow disk or a file that never ends (a named pipe among a
folder's images) once froze the window, because the preview loaded on the GUI thread while a project opened."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypeAlias

from PySide6.QtCore import QObject, Signal

from core.datasets import load_for_settings
from core.datasets.light import LightDataset, light_preview
from core.datasets.spec import sources
from core.errors import TorchCanvasError
from core.files.project import Project
from core.settings import TrainingSettings
from gui.data.sources import spec_path
from gui.training.panel_choices import OPEN_FILE, OPEN_FOLDER

if TYPE_CHECKING:
    from core.datasets import Dataset

# What the dashboard previews: the dataset as training loads it, or the example's digits drawn without torch.
ShownData: TypeAlias = "Dataset | LightDataset"


def dataset_key(project: Project) -> tuple:
    """The settings that decide which samples the preview shows: another key loads the dataset again."""
    s = project.training
    return (s.dataset, s.seed, s.val_fraction, s.test_fraction, s.normalize, tuple(s.resize))


def load_for_preview(settings: TrainingSettings) -> Dataset:
    """The dataset as the trainer will see it (same spec, seed and splits), in its natural sample shape."""
    return load_for_settings(settings, None)


def preview_data(settings: TrainingSettings) -> ShownData:
    """What the preview shows: drawn without torch where ``core.datasets.light`` can (the example's digits: an
    idle window then holds neither torch nor scikit-learn), else the full dataset."""
    light = light_preview(settings)
    return light if light is not None else load_for_preview(settings)


class PreviewLoader(QObject):
    """One preview load at a time per request number; only the newest request's answer counts (``latest``)."""

    loaded = Signal(int, str, object)  # request number, the dataset spec, the Dataset or the exception

    def __init__(self, parent: QObject | None = None, *, light: bool = False) -> None:
        super().__init__(parent)
        self.latest = 0
        self.light = light  # answer with ``preview_data`` (possibly a LightDataset), not always the full dataset

    def load(self, settings: TrainingSettings) -> int:
        """Start loading in a daemon thread (a load that never ends cannot keep the app from quitting); returns
        at once with the request's number, which ``loaded`` carries back to the GUI thread."""
        self.latest += 1
        snapshot = TrainingSettings.from_dict(settings.to_dict())  # later edits do not reach the thread
        args = (self.latest, snapshot)
        threading.Thread(target=self._work, args=args, name="torchcanvas-data-preview", daemon=True).start()
        return self.latest

    def cancel(self) -> None:
        """Whatever is loading now is dropped when it arrives."""
        self.latest += 1

    def _work(self, number: int, settings: TrainingSettings) -> None:
        try:
            result: ShownData | Exception = preview_data(settings) if self.light else load_for_preview(settings)
        except Exception as exc:  # explained by the dashboard (data_failure)
            result = exc
        try:
            self.loaded.emit(number, settings.dataset, result)  # queued to the GUI thread
        except RuntimeError:  # the dashboard was closed meanwhile
            pass


def _is_plain(exc: BaseException) -> bool:
    return isinstance(exc, TorchCanvasError)


def short_name(spec: str) -> str:
    """'npz:/a/long/path/x.npz' -> 'x.npz', 'table:/a/h.csv?label=y' -> 'h.csv'; 'mnist' and 'spirals:noise=0.3'
    stay."""
    head = spec.partition(":")[0]
    if head not in {name for source in sources() if source.user_files for name in source.names}:
        return spec
    return spec_path(spec).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def data_failure(spec: str, exc: BaseException) -> str:
    """Why ``spec`` could not be loaded and what to do, in plain words (the files' place, or an npz: file)."""
    reason = str(exc) if _is_plain(exc) else f"{spec} could not be loaded ({type(exc).__name__}: {exc})."
    if not reason.rstrip().endswith("."):
        reason = reason.rstrip() + "."
    return (
        f"{reason} Your own data opens with '{OPEN_FILE}' or '{OPEN_FOLDER}' in this list (or Data > Open…): a "
        "folder of images with one sub-folder per class, a table, a NumPy file (the dataset npz:PATH, saved with "
        "np.savez(PATH, x_train=..., y_train=...)) or IDX files."
    )
