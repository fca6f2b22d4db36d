"""Train the project with Keras for a side-by-side comparison: the exported Keras script, run as it is.

Running the very script ``torchcanvas export -f keras`` writes (in a child process) means the comparison is
what a user would get, the data split is the PyTorch run's (same loaders, same seed), and Keras' global state
(its seed, torch's thread count) never touches the app's own trainer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.code.keras_script import generate_keras_script
from core.errors import TrainingError
from core.files.fileio import atomic_write_text

if TYPE_CHECKING:  # only a type here
    from core.files.project import Project

SCRIPT_NAME = "keras_train.py"
HISTORY_NAME = "keras_history.json"


@dataclass
class KerasRun:
    """What the Keras script reported: rows shaped like our history rows, and the figures of the table."""

    history: list[dict[str, Any]] = field(default_factory=list)
    test_accuracy: float | None = None
    test_loss: float | None = None
    seconds: float = 0.0  # fit: training and validation, without loading the data or importing keras
    samples_per_second: float = 0.0
    train_samples: int = 0


def read_result(folder: Path) -> KerasRun:
    """The Keras run from the ``keras_history.json`` the script wrote (TrainingError when it is missing/bad)."""
    path = folder / HISTORY_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keras_history: dict[str, list[float]] = data["history"]
        epochs = len(keras_history["loss"])
        rows = [
            {"epoch": i + 1, **{key: values[i] for key, values in keras_history.items() if i < len(values)}}
            for i in range(epochs)
        ]
        seconds = float(data["seconds"])
        rate = float(data["samples_per_second"])
        return KerasRun(
            rows,
            data.get("test_accuracy"),
            data.get("test_loss"),
            seconds,
            rate,
            round(rate * seconds / epochs) if epochs else 0,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"The Keras run left no readable result in {path} ({exc}).") from None


def run_keras(
    project: Project,
    folder: Path,
    on_line: Callable[[str], None] | None = None,
    started: Callable[[subprocess.Popen[str]], None] | None = None,
    timeout: float = 3600.0,
) -> KerasRun:
    """Write the Keras script into ``folder``, run it, and return its result. Every line it prints goes to
    ``on_line`` (Keras' "Epoch 3/5" lines show progress); a failure raises TrainingError with its last lines."""
    folder.mkdir(parents=True, exist_ok=True)
    script = atomic_write_text(folder / SCRIPT_NAME, generate_keras_script(project))
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if started is not None:
        started(process)  # the GUI keeps it, to end it when the window closes
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        del lines[:-40]
        if on_line is not None:
            on_line(lines[-1])
    code = process.wait(timeout=timeout)
    if code != 0:
        tail = "\n".join(line for line in lines[-6:] if line.strip())
        hint = " Is keras installed? pip install keras" if "No module named 'keras'" in tail else ""
        raise TrainingError(f"The Keras run failed (exit code {code}).{hint}\n{tail}")
    return read_result(folder)
