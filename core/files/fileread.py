"""The one way TorchCanvas reads a file it did not make.

``read_regular_file`` refuses what is not a regular file (``/dev/zero``, a FIFO that would block forever, a
folder) and anything over a size limit, before reading a byte; failures become ``FileReadError`` in plain words.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from core.errors import TorchCanvasError
from core.files.file_errors import PathLike, explain_os_error

__all__ = ["FileReadError", "explain_read_error", "read_regular_file"]


class FileReadError(TorchCanvasError):
    """A file could not be read, or is not something TorchCanvas will read (a device, a pipe, too large)."""

    def __init__(self, path: PathLike, cause: str, code: int | None = None) -> None:
        super().__init__(f"Could not read {os.fspath(path)}: {cause}.")
        self.path = Path(path)
        self.cause = cause
        self.errno = code


def read_regular_file(path: PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; FileReadError for anything else, checked before
    reading (a FIFO is opened without blocking, ``/dev/zero`` is refused by its type, not by running out of
    memory)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileReadError(path, explain_read_error(exc), exc.errno) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileReadError(path, f"that is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            kind = "a pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a device or special file"
            raise FileReadError(path, f"that is {kind}, not a regular file; a {what} must be a regular file")
        if info.st_size > max_bytes:
            size = f"{_size(info.st_size)}; at most {_size(max_bytes)}"
            raise FileReadError(path, f"it is too large to be a {what} ({size})")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise FileReadError(path, f"it is too large to be a {what} (more than {_size(max_bytes)})")
    except OSError as exc:
        raise FileReadError(path, explain_read_error(exc), exc.errno) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def explain_read_error(exc: OSError) -> str:
    """Like ``explain_os_error``, for reading ("no such file" instead of "the folder does not exist")."""
    if exc.errno == errno.ENOENT:
        return "there is no such file"
    if exc.errno in (errno.EACCES, errno.EPERM) or isinstance(exc, PermissionError):
        return "permission denied"
    return explain_os_error(exc)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"
