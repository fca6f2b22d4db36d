"""What went wrong with a file, in words a beginner can act on.

``FileWriteError`` names the path and the cause ("the disk is full"), never an errno number;
``explain_os_error`` turns an ``OSError`` into that cause, and ``write_failure`` recognises a failed write behind
another exception (PyTorch's serialiser says ``[enforce fail at inline_container.cc]`` for a full disk). The
writer is ``core.files.fileio``, the guarded reader ``core.files.fileread``.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from core.errors import TorchCanvasError

NAME_MAX = 255  # bytes in one file name on every common file system (ext4, APFS, NTFS counts UTF-16 units)

PathLike = str | os.PathLike[str]

# errno -> the cause in words a beginner can act on (the path is named by the message around it)
REASONS: dict[int, str] = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "your disk quota is used up; free some space and try again",
    errno.EFBIG: "the file is larger than this disk or folder allows",
    errno.EACCES: "permission denied; choose a folder you may write to",
    errno.EPERM: "the operation is not permitted here; choose a folder you may write to",
    errno.EROFS: "the disk is read-only; choose another folder",
    errno.ENAMETOOLONG: f"the file name is too long (at most {NAME_MAX} bytes); choose a shorter name",
    errno.ELOOP: "the path goes through a symbolic link that points back to itself (a loop)",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "that is a folder, not a file",
    errno.EEXIST: "something with that name is already there",
    errno.EIO: "the disk reported an input/output error",
    errno.EBUSY: "the file is in use by another program",
    errno.EXDEV: "the temporary file and the target are on different disks",
    errno.EMFILE: "too many files are open",
    errno.ENXIO: "that is a device or pipe without a reader, not a file",
}


class FileWriteError(TorchCanvasError):
    """A file could not be written; the previous file (if any) is untouched. ``str()`` is the whole message."""

    def __init__(self, path: PathLike, cause: str, code: int | None = None) -> None:
        super().__init__(f"Could not write {os.fspath(path)}: {cause}.")
        self.path = Path(path)
        self.cause = cause
        self.errno = code


def explain_os_error(exc: OSError) -> str:
    """The cause of an OSError in plain words, without the errno number or a repeated path."""
    if exc.errno in REASONS:
        return REASONS[exc.errno]
    if isinstance(exc, PermissionError):
        return REASONS[errno.EACCES]
    if "no space left on device" in str(exc).lower():  # said in words only, without an errno
        return REASONS[errno.ENOSPC]
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


_WRITER_FAILURES = ("inline_container", "file write failed", "no space left", "disk quota", "write failed")


def write_failure(exc: BaseException, path: PathLike) -> FileWriteError | None:
    """A FileWriteError when ``exc`` (or an exception it came from) is a failure to write the file rather than a
    problem of the model: an OSError, or PyTorch's serialiser failing ("[enforce fail at inline_container.cc]").
    None otherwise. A full disk is named as such, never blamed on a layer."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FileWriteError):
            return current
        if isinstance(current, TorchCanvasError):  # already a plain message about something else
            return None
        if isinstance(current, OSError) and current.errno is not None:
            return FileWriteError(path, explain_os_error(current), current.errno)
        text = str(current).lower()
        if "no space left on device" in text:  # said in words only (torch's writer, an OSError without errno)
            return FileWriteError(path, REASONS[errno.ENOSPC], errno.ENOSPC)
        if isinstance(current, RuntimeError) and any(marker in text for marker in _WRITER_FAILURES):
            if "no space left" in text or _disk_nearly_full(Path(path).parent):
                return FileWriteError(path, REASONS[errno.ENOSPC], errno.ENOSPC)
            if "quota" in text:
                return FileWriteError(path, REASONS[errno.EDQUOT], errno.EDQUOT)
            return FileWriteError(path, "PyTorch could not write the file (is the disk full or removed?)")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return None


def _disk_nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 16 * 1024 * 1024
    except OSError:
        return False
