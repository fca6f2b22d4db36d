"""One family of errors, each carrying a plain-language message a beginner can act on."""

from __future__ import annotations

import re
from pathlib import Path


class TorchCanvasError(Exception):
    """Base of every error TorchCanvas shows to a user; str(error) is the whole message."""


class GraphError(TorchCanvasError):
    """A structural problem in the graph, tied to the node it concerns (if any)."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class CycleError(GraphError):
    """Connecting would make data flow in a circle."""


class PortAlreadyConnectedError(GraphError):
    """An input port accepts one wire only."""


class SelfConnectionError(GraphError):
    """A node cannot feed itself."""


class PortError(GraphError):
    """The port does not exist on that node."""


class UnknownLayerError(GraphError):
    """A node names a layer type the catalog does not know."""


class InvalidNameError(GraphError):
    """A user-chosen name cannot be used as a Python identifier in generated code."""


class ShapeError(GraphError):
    """A layer cannot accept the tensor shape that reaches it."""


class ParameterError(GraphError):
    """A parameter value is of the wrong type or out of range."""


class ProjectLoadError(TorchCanvasError):
    """A project file could not be read; the message names the file and the field."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None) -> None:
        where = f"{path}: " if path else ""
        at = f" (at {field})" if field else ""
        super().__init__(f"{where}{message}{at}")
        self.path = path
        self.field = field
        self.unexpected = False  # True: a validator failed in a way nobody foresaw (a bug; the tests forbid it)


class ProjectSaveError(TorchCanvasError):
    """A project file could not be written; the old file is untouched."""


class ExportError(TorchCanvasError):
    """The model cannot be exported in the chosen format; the message names the layer (if any) and why."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class DataError(TorchCanvasError):
    """A dataset could not be loaded or used; the message names the file (and row) and the fix."""


class TrainingError(TorchCanvasError):
    """Training cannot start or cannot go on (a bad setting, a shape the data does not fit, a lost device)."""


def plain_message(error: BaseException, log: Path | None = None, *, training: bool = False) -> str:
    """What a user reads for an exception that reached the app (``training``: one that ended a run).

    A ``TorchCanvasError`` is the user's to fix and already says how: it is told as it is, without the log.
    A run that failed for a known reason (memory, no CUDA, an unreadable file, a shape) gets advice; anything
    else is a bug, told in one sentence with the file that holds its details for a bug report."""
    if isinstance(error, TorchCanvasError):
        return str(error)
    text = (_training_advice(error) if training else None) or _unexpected(error, training)
    if log is not None:
        text += f"\n\nDetails for a bug report are in {log}."
    return text


def _first_line(error: BaseException) -> str:
    words = str(error).strip()
    return words.splitlines()[0] if words else type(error).__name__


def _training_advice(error: BaseException) -> str | None:
    lowered = str(error).lower()
    memory = out_of_memory_message(error)
    if memory:
        return memory
    if "cuda" in lowered and ("not available" in lowered or "no cuda" in lowered or "driver" in lowered):
        return "No usable CUDA GPU was found. Choose Auto or CPU as the device and train again."
    if isinstance(error, (FileNotFoundError, PermissionError)):
        return f"A data file could not be read: {_first_line(error)}"
    if isinstance(error, RuntimeError) and ("shape" in lowered or "size" in lowered):
        return (
            f"The network could not process the data: {_first_line(error)}. Check the Input shape and the layer sizes."
        )
    return None


# What torch's allocators say when memory runs out: the CPU's ("[enforce fail at alloc_cpu.cpp:127] ...
# DefaultCPUAllocator: can't allocate memory: you tried to allocate 12800000000 bytes"), CUDA's ("CUDA out of memory.
# Tried to allocate 20.00 GiB"), Apple's ("MPS backend out of memory").
_OUT_OF_MEMORY = ("can't allocate memory", "cannot allocate memory", "out of memory", "defaultcpuallocator")


def out_of_memory_message(error: BaseException, layer: str = "") -> str | None:
    """Plain words for an exception that says memory ran out (None for any other): the device whose memory it
    was, how much was asked for at once, and the fix, instead of the allocator's text. ``layer``: the node whose
    line raised it ("fc1 (Linear)"), when known."""
    text = str(error)
    lowered = text.lower()
    oom_class = type(error).__name__ == "OutOfMemoryError"  # torch.cuda.OutOfMemoryError, no torch import here
    if not (isinstance(error, MemoryError) or oom_class or any(marker in lowered for marker in _OUT_OF_MEMORY)):
        return None
    if oom_class or "cuda" in lowered:
        device, other = "The GPU", " or train on the CPU (Device: CPU), which has the computer's memory"
    elif "mps" in lowered:
        device, other = "The Apple GPU", ""
    else:
        device, other = "The computer", ""
    found = re.search(r"allocate (\d+) bytes", text)
    amount = size_words(int(found.group(1))) if found else ""
    if not found:
        found = re.search(r"allocate ([\d.]+ [KMGT]i?B)", text)  # CUDA's and MPS's "Tried to allocate 20.00 GiB"
        amount = found.group(1) if found else ""
    detail = f", in {layer}" if layer else ""
    if amount:
        detail = f": {layer or 'it'} asked for {amount} at once"
    return (
        f"{device} ran out of memory during training{detail}. Lower the batch size, or make the biggest layers "
        f"smaller (fewer out_features or channels){other}; torchcanvas check estimates what training needs."
    )


def size_words(count: int) -> str:
    """Bytes as a person reads them: '13 GB', '1.6 GB', '820 MB' (powers of 1000, as disks and shops count); the
    words of an out-of-memory error and of ``core.model.memory``'s estimate."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    if unit == "bytes":
        return f"{count} bytes"
    return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"


def _unexpected(error: BaseException, training: bool) -> str:
    if training:
        return f"Training stopped because of an unexpected error ({type(error).__name__}: {_first_line(error)})."
    return (
        "Something went wrong inside TorchCanvas. Your project is still open; saving it now is a good idea."
        f"\n\nWhat happened: {type(error).__name__}: {error}"
    )
