"""Reading trained weights, in files' words: a .pt file (``torch.load(weights_only=True)``: no code runs), a
.safetensors file, or a run folder, where an empty or unreadable last.pt (a run killed while saving, a full disk)
falls back to best.pt with a note. Every failure is an ExportError that names the file and what to do.

The reading itself is ``core.weights_reading``'s, a floor below code (the exported script names the file a run
folder's weights come from); here a file that cannot be opened is worded as every file read is
(``explain_read_error``)."""

from __future__ import annotations

from pathlib import Path

import torch

from core.files.fileread import explain_read_error
from core.weights_reading import EXTRA_HINT, WEIGHT_FILES, LoadedWeights, optional_package, unwrap_keys
from core.weights_reading import read_weights as read_with

__all__ = [
    "EXTRA_HINT",
    "WEIGHT_FILES",
    "LoadedWeights",
    "find_weights",
    "first_line",
    "load_weights",
    "optional_package",
    "read_weights",
    "unwrap_keys",
]


def find_weights(path: str | Path) -> Path:
    """A weights file, or the final weights inside a run folder (last.pt: what the app evaluated; else best.pt)."""
    return read_weights(path).file


def read_weights(path: str | Path) -> LoadedWeights:
    """The state_dict of a weights file or run folder. In a run folder whose last.pt is empty or unreadable (a
    run killed while saving, a full disk) best.pt is used instead, and the note says so."""
    return read_with(path, explain_read_error)


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from a .pt (read with weights_only=True: no code runs) or .safetensors file or run folder."""
    return read_weights(path).state


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an error, at most 300 characters: enough to say what went wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text[:300]
