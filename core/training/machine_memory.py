"""How much memory the device a run would train on has: the computer's RAM (a container's limit counts) or a
CUDA GPU's. Read from the operating system without any dependency (psutil is none of ours); torch is imported
only to ask about a GPU, and only by a caller whose network is big enough for the answer to matter."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Memory:
    """``where``: how a sentence names the device ("this computer", "the GPU (NVIDIA H100)"); bytes in all and
    free now (None when the system does not say)."""

    where: str
    total: int
    available: int | None


def _meminfo() -> dict[str, int]:
    """/proc/meminfo's fields in bytes (Linux; {} elsewhere)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text(encoding="ascii", errors="replace").splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                found[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return found


def _cgroup_limit() -> tuple[int, int] | None:
    """(limit, in use) of the container or service this process runs in, when one is set (cgroup v2, then v1)."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        with contextlib.suppress(OSError, ValueError):
            limit = int(Path(limit_file).read_text().strip())  # "max" (no limit) is a ValueError
            usage = int(Path(usage_file).read_text().strip())
            if limit < 1 << 60:  # v1 writes a huge number for no limit
                return limit, usage
    return None


def _windows_ram() -> tuple[int, int] | None:
    import ctypes  # deferred: Windows only

    class Status(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong)] + [
            (name, ctypes.c_ulonglong)
            for name in ("total", "avail", "page_total", "page_avail", "virt_total", "virt_avail", "ext")
        ]

    status = Status()
    status.length = ctypes.sizeof(Status)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return int(status.total), int(status.avail)


def computer_memory() -> Memory | None:
    """The RAM of this computer (None when the system does not say)."""
    total: int | None = None
    available: int | None = None
    info = _meminfo()
    if "MemTotal" in info:
        total, available = info["MemTotal"], info.get("MemAvailable")
    elif sys.platform == "win32":
        with contextlib.suppress(OSError, AttributeError):
            found = _windows_ram()
            if found:
                total, available = found
    else:  # macOS and the other Unixes
        with contextlib.suppress(OSError, ValueError, AttributeError):
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        with contextlib.suppress(OSError, ValueError, AttributeError):
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")  # free pages: on the low side
    if total is None or total <= 0:
        return None
    limited = _cgroup_limit()
    if limited is not None and limited[0] < total:
        total = limited[0]
        available = min(available if available is not None else total, max(limited[0] - limited[1], 0))
    return Memory("this computer", total, available)


def gpu_memory() -> Memory | None:
    """The first CUDA GPU's memory, when torch sees one (imports torch)."""
    import torch  # deferred: the caller asks only for a network that is big enough to matter

    if not torch.cuda.is_available():
        return None
    try:
        free, total = torch.cuda.mem_get_info()
        name = torch.cuda.get_device_name()
    except RuntimeError:  # a driver that answers is_available but not this
        return None
    return Memory(f"the GPU ({name})", int(total), int(free))


def device_memory(device: str) -> Memory | None:
    """The memory of the device a run with ``device`` ("auto", "cpu", "cuda", "mps") trains on; the computer's
    when it falls back to the CPU (or an Apple GPU, which shares the computer's memory)."""
    if device in ("auto", "cuda"):
        gpu = gpu_memory()
        if gpu is not None:
            return gpu
    return computer_memory()
