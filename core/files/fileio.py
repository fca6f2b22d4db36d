"""The one way TorchCanvas writes a file.

Writing: everything the app writes (projects, recovery files, run folders, exports) goes through
``atomic_write_bytes`` / ``atomic_write_text`` / ``atomic_write_with``: a temporary file in the same folder,
flushed and fsynced, then ``os.replace`` over the target and an fsync of the folder. A crash, a full disk or a
refused permission leaves the previous file byte for byte; the temporary file is removed. New files get the
ordinary permissions the user's umask gives (``mkstemp`` would give 0600); a file that already exists keeps its
mode. Text is UTF-8 with LF line endings on every platform. The temporary name is short enough that a legal
255-byte file name still works. A symbolic link at the target is refused, never written through (the file it names
could be anywhere); a FIFO or device there is refused too.

Failures become ``core.files.file_errors.FileWriteError``: the path and the cause in plain words ("the disk is
full"), never an errno or a PyTorch ``[enforce fail at inline_container.cc]`` line.

Reading a file TorchCanvas did not make is ``core.files.fileread``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.files.file_errors import NAME_MAX, REASONS, FileWriteError, PathLike, explain_os_error, write_failure

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_with",
    "check_target",
    "remove_stale_temps",
    "write_new_file",
]

TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 600  # a temporary file this old belongs to a killed write, not to one still running
_TOKEN_BYTES = 4  # 8 hex digits: unique enough within one folder, short enough for long names


# --- where a write goes --------------------------------------------------------------------------------------
def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def check_target(path: PathLike) -> Path:
    """The file a write to ``path`` will replace, or FileWriteError in plain words.

    Call it before asking anything of the user (a Save As dialog does): a name longer than the file system
    allows, a symbolic link (never written through, even with ``--force``: the file it names may be anywhere,
    such as ``~/.bashrc``; "it is a link to ..."), a symbolic-link loop, a folder in the way or a missing folder
    are reported here, not as an uncaught OSError or RuntimeError later. Links in the folders above are followed.
    """
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise FileWriteError(target, "that is a folder, not a file name", errno.EISDIR)
    if os.path.islink(target):  # never through it: the file it names may be anywhere (~/.bashrc)
        try:
            os.path.realpath(target, strict=True)
        except FileNotFoundError:
            pass  # a link to a file not made yet: still a link
        except OSError as exc:  # a loop
            raise FileWriteError(path, explain_os_error(exc), exc.errno) from None
        raise FileWriteError(target, _link_cause(target))
    folder = target.parent
    limit = _name_max(folder if folder.is_dir() else Path("."))
    size = len(os.fsencode(target.name))
    if size > limit:
        cause = f"the file name is too long ({size} bytes; at most {limit}); choose a shorter name"
        raise FileWriteError(target, cause, errno.ENAMETOOLONG)
    try:
        info = os.stat(folder)
    except OSError as exc:
        raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
    if not stat.S_ISDIR(info.st_mode):
        raise FileWriteError(target, REASONS[errno.ENOTDIR], errno.ENOTDIR)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
    if stat.S_ISDIR(mode):
        raise FileWriteError(target, REASONS[errno.EISDIR], errno.EISDIR)
    if not stat.S_ISREG(mode):  # /dev/null, /dev/stdout, a FIFO: never replaced by a file (as root it would be)
        raise FileWriteError(target, "that is a device, pipe or other special file, not a regular file")
    return target


def _link_cause(link: Path) -> str:
    try:
        names = os.readlink(link)
    except OSError:  # pragma: no cover - it was a link a moment ago
        names = "another file"
    return (
        f"it is a link to {names}; TorchCanvas does not write through links (that would replace the file it "
        "names); choose another name, or remove the link first"
    )


def _temp_name(target: Path) -> str:
    """``.<name>.<token>.tmp``, with the name cut so the whole stays within the file-system limit."""
    tail = f".{secrets.token_hex(_TOKEN_BYTES)}{TEMP_SUFFIX}"
    room = _name_max(target.parent) - 1 - len(tail)
    stem = os.fsencode(target.name)[: max(room, 0)].decode(sys.getfilesystemencoding(), "ignore")
    return f".{stem}{tail}"


def _temp_prefix(target: Path) -> str:
    room = _name_max(target.parent) - 1 - (1 + 2 * _TOKEN_BYTES + len(TEMP_SUFFIX))
    return "." + os.fsencode(target.name)[: max(room, 0)].decode(sys.getfilesystemencoding(), "ignore")


def remove_stale_temps(path: PathLike) -> None:
    """Delete temporary files (and folders) that killed writes of this file left behind, once old enough that
    no write still runs."""
    target = Path(path)
    cutoff = time.time() - STALE_TEMP_SECONDS
    prefix = _temp_prefix(target) + "."
    try:
        leftovers = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            if leftover.lstat().st_mtime < cutoff:
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --- writing -------------------------------------------------------------------------------------------------
class _FdWriter(io.RawIOBase):
    """Writes through ``os.write`` that never raise. The first OSError is recorded and later writes are dropped
    but reported as done, and the caller raises the recorded error (the file is never used). Why: PyTorch's
    writer turns a failed write into "[enforce fail at inline_container.cc]", and a PyTorch writer destroyed
    unfinished aborts the whole process from its destructor; so it always finishes, into nothing."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.error: OSError | None = None
        self.done = False  # after the write: drop anything a lingering writer still sends

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        size = view.nbytes
        while view.nbytes and self.error is None and not self.done:
            try:
                view = view[os.write(self.fd, view) :]
            except InterruptedError:
                continue
            except OSError as exc:
                self.error = exc
        return size

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def fileno(self) -> int:
        return self.fd


def _write_fd(fd: int, data: bytes | Callable[[BinaryIO], object], durable: bool = True) -> OSError | None:
    """Write ``data`` into ``fd`` and fsync it (if ``durable``); the OSError that stopped the write, if any (other
    exceptions of a writer propagate)."""
    raw = _FdWriter(fd)
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw.write(data)
        else:
            data(raw)  # type: ignore[arg-type]
        if raw.error is None and durable:
            os.fsync(fd)
    except OSError as exc:
        return raw.error or exc
    except BaseException:
        if raw.error is not None:  # the writer failed because its writes did: that is the cause
            return raw.error
        raise
    finally:
        raw.done = True
    return raw.error


def write_new_file(path: PathLike, data: bytes | Callable[[BinaryIO], object]) -> Path:
    """Write a file that is not yet the user's (inside ``atomic_write_with``'s temporary folder) through the same
    guarded handle as ``atomic_write_bytes``: for path writers that also accept a handle (``torch.export.save``).
    FileWriteError names the path and the cause."""
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, 0o666)
    except OSError as exc:
        raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
    try:
        error = _write_fd(fd, data)
    finally:
        os.close(fd)
    if error is not None:
        raise FileWriteError(target, explain_os_error(error), error.errno)
    return target


def _create_temp(target: Path) -> tuple[int, Path]:
    """A new temporary file beside the target, opened for writing, with the permissions the target will have."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = target.parent / _temp_name(target)
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies: 0644 under the usual 022
        except FileExistsError:
            continue
        except OSError as exc:
            raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
        try:
            existing = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            existing = None
        if existing is not None:
            with contextlib.suppress(OSError):
                os.chmod(tmp, existing)  # replacing a file keeps the mode its owner gave it
        return fd, tmp
    raise FileWriteError(target, "no free temporary file name in its folder", errno.EEXIST)  # pragma: no cover


def atomic_write_bytes(path: PathLike, data: bytes | Callable[[BinaryIO], object], *, durable: bool = True) -> Path:
    """Write ``data`` (bytes, or a function that writes into the binary handle it is given, e.g.
    ``lambda f: torch.save(state, f)``) to ``path`` atomically; returns the file written.

    On any failure the previous file is untouched, the temporary file is gone, and a ``FileWriteError`` names the
    path and the cause (also when the writer hid an OSError inside its own exception). Other exceptions of the
    writer propagate unchanged. ``durable=False`` skips the fsyncs (still atomic against a crash of the app, not
    against a power cut): for a small file rewritten often, such as a run's metrics.csv after every epoch.
    """
    target = check_target(path)
    fd, tmp = _create_temp(target)
    try:
        try:
            error = _write_fd(fd, data, durable)
        finally:
            os.close(fd)
        if error is not None:
            raise FileWriteError(target, explain_os_error(error), error.errno)
        os.replace(tmp, target)
    except BaseException as exc:  # also KeyboardInterrupt: never leave the temporary file behind
        # judged before the temporary file goes: a disk filled by it no longer looks full once it is removed
        failure = write_failure(exc, target) if isinstance(exc, Exception) else None
        if failure is None and isinstance(exc, OSError):
            failure = FileWriteError(target, explain_os_error(exc), exc.errno)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if failure is not None:
            raise failure from None
        raise
    if durable:
        _fsync_dir(target.parent)
    return target


def atomic_write_text(path: PathLike, text: str, *, durable: bool = True) -> Path:
    """Write ``text`` as UTF-8 with LF line endings (CRLF and CR become LF), atomically; returns the file."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FileWriteError(path, f"the text cannot be written as UTF-8 ({exc.reason})") from None
    return atomic_write_bytes(path, data, durable=durable)


def atomic_write_with(path: PathLike, write: Callable[[Path], object]) -> Path:
    """For writers that want a path, not a handle (``torch.onnx.export``, ``torch.export.save``): ``write`` gets
    a path in a fresh temporary folder beside the target, with the target's own name (so files it writes beside
    it, like ONNX's ``.onnx.data``, keep the names the main file refers to). It may also check what it wrote;
    only when it returns are the files moved over the old ones. Returns the file written.

    On failure nothing at ``path`` changes; a write failure (an OSError, or PyTorch's writer failing) becomes a
    FileWriteError, and every other exception of ``write`` propagates unchanged.
    """
    target = check_target(path)
    workdir = target.parent / _temp_name(target)
    try:
        os.mkdir(workdir)
    except OSError as exc:
        raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
    try:
        inner = workdir / target.name
        write(inner)
        if not inner.is_file():
            raise FileWriteError(target, "the exporter wrote no file")
        made = [*sorted(p for p in workdir.iterdir() if p.is_file() and p != inner), inner]
        for file in made:
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        for file in made:  # the side files first: the main file never refers to a missing one
            final = target if file == inner else target.parent / file.name
            with contextlib.suppress(OSError):
                os.chmod(file, stat.S_IMODE(os.stat(final).st_mode))
            os.replace(file, final)
    except FileWriteError as exc:  # named after the target, not the temporary folder
        raise FileWriteError(target, exc.cause, exc.errno) from None
    except OSError as exc:
        raise FileWriteError(target, explain_os_error(exc), exc.errno) from None
    except Exception as exc:
        failure = write_failure(exc, target)
        if failure is not None:
            raise failure from None
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _fsync_dir(target.parent)
    return target
