"""Reading trained weights: a .pt file (``torch.load(weights_only=True)``: no code runs), a .safetensors file, or
a run folder, where an empty or unreadable last.pt (a run killed while saving, a full disk) falls back to best.pt
with a note. Every failure is an ExportError that names the file and what to do.

Below code because the exported script names the file a run folder's weights are read from (``final_weights``), and
files reads every weights file through it (``core.files.weights``, which words an OS error as files do)."""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import re
import stat
import threading
import warnings
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import ExportError

Explain = Callable[[OSError], str]  # an OS error in plain words, without the path
WEIGHT_FILES = ("last.pt", "best.pt", "model.pt", "weights.pt", "last.safetensors", "model.safetensors")
EXTRA_HINT = 'install the export extra: pip install "torchcanvas[export]"'


@dataclass
class LoadedWeights:
    state: dict[str, torch.Tensor]
    file: Path
    note: str = ""  # set when another file than the first choice was used, and why


def final_weights(path: str | Path) -> Path:
    """The file ``read_weights`` takes: a weights file, or the final weights inside a run folder (last.pt: what the
    app evaluated; else best.pt). Code generation names it in the script; a refusal's words are not shown there."""
    return read_weights(path, lambda exc: exc.strerror or type(exc).__name__).file


def _candidates(where: Path) -> list[Path]:
    if where.is_dir():
        named = [where / name for name in WEIGHT_FILES if (where / name).is_file()]
        others = sorted(where.glob("*.pt")) + sorted(where.glob("*.safetensors"))
        return named + [p for p in others if p not in named and p.is_file()]
    if where.name == "last.pt" and (where.parent / "best.pt").is_file():  # a run folder's file: best.pt may stand in
        return [where, where.parent / "best.pt"]
    return [where]


def read_weights(path: str | Path, explain: Explain) -> LoadedWeights:
    """The state_dict of a weights file or run folder. In a run folder whose last.pt is empty or unreadable (a
    run killed while saving, a full disk) best.pt is used instead, and the note says so. ``explain`` words a file
    that cannot be opened (files' ``explain_read_error``: the one way the app words reading errors)."""
    where = Path(path)
    if not where.exists():
        raise ExportError(f"No weights file at {where}.")
    candidates = _candidates(where)
    if not candidates:
        raise ExportError(
            f"No weights (.pt or .safetensors) in the run folder {where}. Choose a run folder that saved weights "
            "(a run that finished at least one epoch), or a weights file."
        )
    problems: list[str] = []
    for file in candidates:
        try:
            state = _read_state(file, explain)
        except ExportError as exc:
            if len(candidates) == 1:
                raise
            problems.append(str(exc))
            continue
        note = ""
        if problems:
            what = " (the weights of the best epoch, not the last)" if file.name == "best.pt" else ""
            note = f"{' '.join(problems)} Used {file.name}{what} instead."
        return LoadedWeights(state, file, note)
    raise ExportError(" ".join(problems) + " Train again to get usable weights.")


_ZIP = b"PK\x03\x04"  # what torch.save writes since PyTorch 1.6: a zip archive
_PICKLE = 0x80  # the first byte of a pickle (torch.save's older format, or any pickled Python object)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_CHOOSE = "Choose the .pt or .safetensors file the weights were saved in, or a run folder."


def _refused(file: Path, why: str, then: str = _CHOOSE) -> ExportError:
    return ExportError(f"Could not read the weights in {file}: {why}. {then}")


def _read_state(file: Path, explain: Explain) -> dict[str, torch.Tensor]:
    """One weights file's state_dict. What is not a regular file (a FIFO would block, /dev/zero never ends) is
    refused before reading; torch's and safetensors' own errors and warnings never reach the user: each cause
    gets its own sentence, and none suggests loading the file in a way that could run code from it."""
    try:
        fd = os.open(file, _OPEN_FLAGS)  # a FIFO opened without blocking: its type is checked next
    except OSError as exc:
        raise _refused(file, explain(exc), "Give yourself read access, or choose other weights.") from None
    with contextlib.ExitStack() as closing:
        closing.callback(os.close, fd)
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _refused(file, "that is a folder, not a weights file")
        if not stat.S_ISREG(info.st_mode):
            kind = "a pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a device or other special file"
            raise _refused(file, f"that is {kind}, not a weights file")
        if info.st_size == 0:
            raise ExportError(
                f"{file} is empty (0 bytes): it holds no weights (a run stopped while saving, or the disk was full). "
                "Choose other weights, or train again."
            )
        head = os.pread(fd, 16, 0)
        if file.suffix == ".safetensors":
            state: Any = _read_safetensors(file)
        else:
            handle = closing.enter_context(os.fdopen(os.dup(fd), "rb"))
            state = _read_pt(file, handle, head)
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise _refused(
            file,
            "it does not hold a state_dict (a mapping of layer names to tensors)",
            "Save the weights with torch.save(model.state_dict(), PATH) and choose that file.",
        )
    return state


def _numpy_globals() -> list[Any]:
    """What a checkpoint's numpy values ask for (``'best_acc': np.float64(0.9)`` beside the state_dict, as most
    training repos save it; an np.ndarray of class counts): numpy's scalar and array rebuilders, ``np.dtype`` and
    its classes, under numpy 2's names and numpy 1's (``numpy.core``). The allow-list torch's own message and
    Hugging Face's trainer use: they make numbers and arrays, never call anything else, so no code runs."""
    try:
        multiarray: Any = importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy 1
        multiarray = importlib.import_module("numpy.core.multiarray")
    dtype_classes = [getattr(np.dtypes, name) for name in np.dtypes.__all__]
    return [
        multiarray.scalar,
        multiarray._reconstruct,
        (multiarray.scalar, "numpy.core.multiarray.scalar"),
        (multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
        np.ndarray,
        np.dtype,
        *dict.fromkeys(dtype_classes),
    ]


_NUMPY_LOCK = threading.Lock()  # torch's safe-globals list is one for the process: one reader changes it at a time


@contextlib.contextmanager
def _numpy_allowed() -> Iterator[None]:
    """torch's weights_only loader, also allowing numpy's values, for this load only: the globals nobody else
    allowed are added for it and taken away after (another user's own allow-list is left as it was)."""
    with _NUMPY_LOCK:
        already = set(torch.serialization.get_safe_globals())
        added = [g for g in _numpy_globals() if g not in already]
        with torch.serialization.safe_globals(added):
            yield


def _read_pt(file: Path, handle: Any, head: bytes) -> Any:
    """torch.load with weights_only=True: tensors, plain containers and numpy's numbers and arrays only (a
    checkpoint's ``best_acc``), no code runs."""
    try:
        with warnings.catch_warnings(), _numpy_allowed():  # e.g. "Detected pickle protocol 4": torch's words
            warnings.simplefilter("ignore")
            return torch.load(handle, map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc)
        if not head.startswith(_ZIP) and (not head or head[0] != _PICKLE):
            raise _refused(
                file, "it is not a PyTorch weights file (neither saved by torch.save nor .safetensors)"
            ) from None
        if isinstance(exc, pickle.UnpicklingError) or "weights only" in text.lower():
            found = re.search(r"GLOBAL ([\w.]+)", text)
            named = f" (it asks for {found.group(1)})" if found else ""
            raise _refused(
                file,
                f"besides tensors it holds Python objects{named} that could run code when loaded, so TorchCanvas "
                "does not load it: it reads only plain tensors",
                "Use weights saved with torch.save(model.state_dict(), PATH) by a source you trust.",
            ) from None
        raise _refused(
            file,
            "the file is damaged or incomplete (cut short while copying, downloading or saving)",
            "Copy or save it again, or choose other weights.",
        ) from None


def _read_safetensors(file: Path) -> Any:
    safetensors_torch = optional_package("safetensors.torch", "read .safetensors weights")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return safetensors_torch.load_file(str(file))
    except Exception:
        raise _refused(
            file,
            "it is not a valid .safetensors file (damaged, incomplete or another kind of file)",
            "Copy or save it again, or choose other weights.",
        ) from None


def optional_package(module: str, purpose: str) -> Any:
    """The module, or an ExportError that names the package and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise ExportError(f"To {purpose}, the {top} package is needed: {EXTRA_HINT}") from None


WRAPPERS = (
    ("module.", "nn.DataParallel or DistributedDataParallel"),
    ("_orig_mod.", "torch.compile"),
)


def unwrap_keys(
    state: dict[str, torch.Tensor], wanted: Collection[str], file: str | Path
) -> tuple[dict[str, torch.Tensor], str]:
    """``state`` keyed as the model wants it, and a note when that took something. A model trained inside
    nn.DataParallel (akamaster's CIFAR ResNets) or torch.compile saves every key with the wrapper's prefix
    (``module.conv1.weight``); the prefix is taken off only when every key has it and what is left is exactly the
    model's keys, so a file for another model still meets the fit check's plain refusal."""
    keys = set(state)
    if not keys or keys == set(wanted):
        return state, ""
    for prefix, wrapper in WRAPPERS:
        if all(key.startswith(prefix) for key in keys) and {key[len(prefix) :] for key in keys} == set(wanted):
            note = (
                f"Every key in {Path(file).name} starts with `{prefix}` (weights saved from a model wrapped in "
                f"{wrapper}): read without it."
            )
            return {key[len(prefix) :]: value for key, value in state.items()}, note
    return state, ""
