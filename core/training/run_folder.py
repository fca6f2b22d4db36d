"""One folder per training run: metrics, settings, the code that ran, the project and the weights."""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import platformdirs
import torch

METRIC_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def default_runs_dir() -> Path:
    return Path(platformdirs.user_data_dir("torchcanvas")) / "runs"


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder and rename it, so a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunFolder:
    """Creates ``<parent>/<date-time>_<project>`` and writes the run's files into it."""

    def __init__(self, parent: Path, project_name: str) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", project_name).strip("-").lower()[:40] or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        parent.mkdir(parents=True, exist_ok=True)
        path = parent / f"{stamp}_{slug}"
        n = 1
        while path.exists():
            n += 1
            path = parent / f"{stamp}_{slug}_{n}"
        path.mkdir()
        self.path = path
        self._writer: Any = None
        self._metrics = (path / "metrics.csv").open("w", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._metrics, fieldnames=METRIC_FIELDS, extrasaction="ignore")
        self._csv.writeheader()
        self._metrics.flush()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(path / "tensorboard"))
        except Exception:  # tensorboard is optional
            self._writer = None

    def write_text(self, name: str, text: str) -> None:
        data = text.encode("utf-8")
        atomic_write_bytes(self.path / name, lambda handle: handle.write(data))

    def write_json(self, name: str, data: Any) -> None:
        self.write_text(name, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def save_weights(self, name: str, model: torch.nn.Module) -> None:
        state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
        atomic_write_bytes(self.path / name, lambda handle: torch.save(state, handle))

    def log_epoch(self, row: dict[str, Any]) -> None:
        self._csv.writerow(row)
        self._metrics.flush()
        if self._writer is not None:
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
                value = row.get(key)
                if isinstance(value, float) and value == value:
                    self._writer.add_scalar(key, value, row["epoch"])

    def close(self) -> None:
        self._metrics.close()
        if self._writer is not None:
            self._writer.close()
