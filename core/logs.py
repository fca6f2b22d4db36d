"""Where tracebacks go: one log folder for the CLI, the editor and training runs, so a bug report finds them all."""

from __future__ import annotations

import os
from pathlib import Path

LOG_ENV = "TORCHCANVAS_LOG_DIR"


def log_dir() -> Path:
    """$TORCHCANVAS_LOG_DIR (tests set it), else the per-user log folder, else a folder in the temp folder."""
    override = os.environ.get(LOG_ENV)
    if override:
        return Path(override)
    try:
        import platformdirs

        return Path(platformdirs.user_log_dir("TorchCanvas", appauthor=False))
    except Exception:  # platformdirs missing or no home folder
        import tempfile

        return Path(tempfile.gettempdir()) / "torchcanvas-logs"
