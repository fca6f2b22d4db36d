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


def append_traceback(error: BaseException, filename: str = "torchcanvas.log", what: str = "") -> Path | None:
    """Append ``error``'s traceback, stamped (and ``what`` was being done, e.g. the command line), to
    ``filename`` in the log folder: the one way the CLI, the window and training runs keep a bug's details.
    Returns the file, or None when it cannot be written (a full disk must not turn one error into two)."""
    import datetime
    import traceback

    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(f"--- {stamp} {what}".rstrip() + f"\n{text}\n")
        return path
    except Exception:  # logging a failure must never raise another
        return None
