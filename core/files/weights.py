"""Reading trained weights: a .pt file (``torch.load(weights_only=True)``: no code runs), a .safetensors file, or
a run folder, where an empty or unreadable last.pt (a run killed while saving, a full disk) falls back to best.pt
with a note. Every failure is an ExportError that names the file and what to do."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.errors import ExportError

WEIGHT_FILES = ("last.pt", "best.pt", "model.pt", "weights.pt", "last.safetensors", "model.safetensors")
EXTRA_HINT = 'install the export extra: pip install "torchcanvas[export]"'


@dataclass
class LoadedWeights:
    state: dict[str, torch.Tensor]
    file: Path
    note: str = ""  # set when another file than the first choice was used, and why


def find_weights(path: str | Path) -> Path:
    """A weights file, or the final weights inside a run folder (last.pt: what the app evaluated; else best.pt)."""
    return read_weights(path).file


def _candidates(where: Path) -> list[Path]:
    if where.is_dir():
        named = [where / name for name in WEIGHT_FILES if (where / name).is_file()]
        others = sorted(where.glob("*.pt")) + sorted(where.glob("*.safetensors"))
        return named + [p for p in others if p not in named and p.is_file()]
    if where.name == "last.pt" and (where.parent / "best.pt").is_file():  # a run folder's file: best.pt may stand in
        return [where, where.parent / "best.pt"]
    return [where]


def read_weights(path: str | Path) -> LoadedWeights:
    """The state_dict of a weights file or run folder. In a run folder whose last.pt is empty or unreadable (a
    run killed while saving, a full disk) best.pt is used instead, and the note says so."""
    where = Path(path)
    if not where.exists():
        raise ExportError(f"No weights file at {where}.")
    candidates = _candidates(where)
    if not candidates:
        raise ExportError(f"No weights (.pt or .safetensors) in the run folder {where}.")
    problems: list[str] = []
    for file in candidates:
        try:
            state = _read_state(file)
        except ExportError as exc:
            if len(candidates) == 1:
                raise ExportError(f"{exc} Choose other weights, or train again.") from None
            problems.append(str(exc))
            continue
        note = ""
        if problems:
            what = " (the weights of the best epoch, not the last)" if file.name == "best.pt" else ""
            note = f"{' '.join(problems)} Used {file.name}{what} instead."
        return LoadedWeights(state, file, note)
    raise ExportError(" ".join(problems) + " Train again to get usable weights.")


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from a .pt (read with weights_only=True: no code runs) or .safetensors file or run folder."""
    return read_weights(path).state


def _read_state(file: Path) -> dict[str, torch.Tensor]:
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise ExportError(f"Could not read the weights in {file}: {exc.strerror or exc}.") from None
    if size == 0:
        raise ExportError(
            f"{file} is empty (0 bytes): it holds no weights (a run stopped while saving, or the disk was full)."
        )
    try:
        if file.suffix == ".safetensors":
            safetensors_torch = optional_package("safetensors.torch", "read .safetensors weights")
            state: Any = safetensors_torch.load_file(str(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(f"Could not read the weights in {file}: {first_line(exc)}.") from None
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ExportError(f"{file} does not hold a state_dict (a mapping of names to tensors).")
    return state


def optional_package(module: str, purpose: str) -> Any:
    """The module, or an ExportError that names the package and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise ExportError(f"To {purpose}, the {top} package is needed: {EXTRA_HINT}") from None


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an error, at most 300 characters: enough to say what went wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text[:300]
