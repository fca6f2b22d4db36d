"""One folder per training run: metrics, settings, the code that ran, the project and the weights.

Every file is written through ``core.files.fileio`` (atomic, ordinary permissions, LF), so a crash or a full disk never
leaves a torn ``summary.json`` or ``last.pt``. Reading a run back (``read_run``) trusts nothing: a folder with a
missing file or a value of the wrong type is skipped with a note naming the file and the key, never a crash.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from core.errors import TorchCanvasError
from core.files.file_errors import FileWriteError, explain_os_error
from core.files.fileio import atomic_write_bytes, atomic_write_text
from core.files.fileread import FileReadError, read_regular_file

if TYPE_CHECKING:
    import torch  # imported where weights are saved: the editor lists runs without torch

METRIC_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
MAX_RUN_FILE_BYTES = 64 * 1024 * 1024  # summary, settings, metrics and project of one run: kilobytes in practice
MAX_LISTED_FOLDERS = 2000
INTERRUPTED = "interrupted"  # the status of a run folder without summary.json (the run never finished)


def default_runs_dir() -> Path:
    return Path(platformdirs.user_data_dir("torchcanvas")) / "runs"


def prepare_runs_dir(path: str | os.PathLike[str]) -> Path:
    """The folder that will hold run folders, created if needed; FileWriteError in plain words when it is a file
    or cannot be created (checked before training starts, so no minutes are lost)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FileWriteError(folder, "that is a file, not a folder; choose a folder for the runs")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise FileWriteError(folder, "a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise FileWriteError(folder, explain_os_error(exc), exc.errno) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileWriteError(folder, "permission denied; choose a folder you may write to")
    return folder


class RunFolder:
    """Creates ``<parent>/<date-time>_<project>`` and writes the run's files into it."""

    def __init__(self, parent: Path, project_name: str) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", project_name).strip("-").lower()[:40] or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        parent = prepare_runs_dir(parent)
        path = parent / f"{stamp}_{slug}"
        n = 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                n += 1
                path = parent / f"{stamp}_{slug}_{n}"
            except OSError as exc:
                raise FileWriteError(path, explain_os_error(exc), exc.errno) from None
        self.path = path
        self._writer: Any = None
        self._rows: list[dict[str, Any]] = []
        self._write_metrics()
        try:
            from torch.utils.tensorboard import SummaryWriter  # deferred: optional, and torch (see save_weights)

            self._writer = SummaryWriter(str(path / "tensorboard"))
        except Exception:  # tensorboard is optional
            self._writer = None

    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)

    def write_json(self, name: str, data: Any) -> None:
        self.write_text(name, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def save_weights(self, name: str, model: torch.nn.Module) -> None:
        import torch  # deferred for start-up: the window reads run folders before anything imports torch

        state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
        atomic_write_bytes(self.path / name, lambda handle: torch.save(state, handle))

    def carry_start_weights(self, source: Path) -> None:
        """The imported weights the run started from, beside its ``train.py`` (which loads them from its own folder),
        so that the run's script starts as the run did: a hard link (no second copy on disk; the app replaces the
        project's file, never rewrites it, so the link keeps what this run read), else a copy. A name the run uses
        itself (``last.pt``) is left out: the script then says the file is not there and starts fresh."""
        target = self.path / source.name
        if os.path.lexists(target) or source.name in ("last.pt", "best.pt"):
            return
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed: a copy
            with source.open("rb") as handle:
                atomic_write_bytes(target, lambda out: shutil.copyfileobj(handle, out))

    def _write_metrics(self) -> None:
        """The whole CSV, rewritten atomically per epoch (a few kilobytes): never a half-written row."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=METRIC_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._rows)
        # no fsync after every epoch (it cost ~14 ms each): atomic is enough for a file that is rewritten anyway
        atomic_write_text(self.path / "metrics.csv", text.getvalue(), durable=False)

    def log_epoch(self, row: dict[str, Any]) -> None:
        self._rows.append(dict(row))
        self._write_metrics()
        if self._writer is not None:
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
                value = row.get(key)
                if isinstance(value, float) and value == value:
                    self._writer.add_scalar(key, value, row["epoch"])

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


# --- reading runs back ---------------------------------------------------------------------------------------
class RunReadError(TorchCanvasError):
    """A run folder that cannot be shown: the message names the file and the key."""


@dataclass
class SavedRun:
    """A run read back from its folder: what the Runs list shows."""

    folder: Path
    status: str
    settings: dict[str, Any]
    history: list[dict[str, float | None]] = field(default_factory=list)
    test_accuracy: float | None = None
    test_loss: float | None = None
    project_name: str | None = None


def _read_json(file: Path) -> Any:
    try:
        raw = read_regular_file(file, MAX_RUN_FILE_BYTES, "run file")
        return json.loads(raw.decode("utf-8"))
    except FileReadError as exc:
        raise RunReadError(str(exc)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunReadError(f"{file} is not valid JSON ({str(exc)[:120]})") from None


def _number(value: Any, file: Path, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunReadError(f'{file}: "{key}" should be a number or null, not {type(value).__name__} {value!r:.40}')
    return float(value)


def _cell(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is None or math.isfinite(value) or math.isnan(value) else None


def read_run(folder: str | os.PathLike[str]) -> SavedRun:
    """Read summary.json, hparams.json and metrics.csv of a run; RunReadError naming the file and key when one
    is missing, not JSON, or holds a value of the wrong type."""
    where = Path(folder)
    summary_file, settings_file = where / "summary.json", where / "hparams.json"
    # A run writes summary.json last: a folder without one is a run that was killed (or one still training in
    # another process), listed as such with the epochs its metrics.csv holds, not a damaged folder to warn about.
    interrupted = not os.path.lexists(summary_file) and settings_file.is_file()
    summary = {"status": INTERRUPTED} if interrupted else _read_json(summary_file)
    if not isinstance(summary, dict):
        raise RunReadError(f"{summary_file} should hold a JSON object, not {type(summary).__name__}")
    settings = _read_json(settings_file)
    if not isinstance(settings, dict):
        raise RunReadError(f"{settings_file} should hold a JSON object, not {type(settings).__name__}")
    status = summary.get("status", "?")
    if not isinstance(status, str):
        raise RunReadError(f'{summary_file}: "status" should be text, not {type(status).__name__}')
    test_accuracy = _number(summary.get("test_accuracy"), summary_file, "test_accuracy")
    test_loss = _number(summary.get("test_loss"), summary_file, "test_loss")
    metrics = where / "metrics.csv"
    if interrupted and not os.path.lexists(metrics):  # killed before its first epoch was written
        return SavedRun(where, INTERRUPTED, settings)
    try:
        text = read_regular_file(metrics, MAX_RUN_FILE_BYTES, "run file").decode("utf-8")
    except FileReadError as exc:
        raise RunReadError(str(exc)) from None
    except UnicodeDecodeError:
        raise RunReadError(f"{metrics} is not UTF-8 text") from None
    try:
        history = [{str(k): _cell(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]
    except csv.Error as exc:
        raise RunReadError(f"{metrics} is not a readable CSV file ({exc})") from None
    return SavedRun(where, status[:40], settings, history, test_accuracy, test_loss)


def run_project_name(folder: str | os.PathLike[str]) -> str | None:
    """The name in the run's project.json (None when it has none or cannot be read)."""
    try:
        data = _read_json(Path(folder) / "project.json")
    except RunReadError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def project_runs(
    runs_root: str | os.PathLike[str], project_name: str, limit: int = 200
) -> tuple[list[SavedRun], list[str]]:
    """The saved runs of the project named ``project_name``, oldest first (folder names start with the time),
    and one note per run folder of that project that was skipped because it cannot be read."""
    root = Path(runs_root)
    runs: list[SavedRun] = []
    notes: list[str] = []
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())[-MAX_LISTED_FOLDERS:]
    except OSError:
        return runs, notes
    for folder in folders:
        if run_project_name(folder) != project_name:
            continue
        try:
            run = read_run(folder)
        except RunReadError as exc:
            notes.append(f"Skipped the run {folder.name}: {exc}")
            continue
        run.project_name = project_name
        runs.append(run)
    return runs[-limit:], notes
