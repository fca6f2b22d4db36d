"""Crash recovery files: unsaved work, autosaved beside (never over) the user's file.

Each running instance owns one *slot* in a per-user folder (``platformdirs`` user state dir / ``recovery``, or
``$TORCHCANVAS_RECOVERY_DIR``): ``<pid>-<start>-<token>.recovery.json`` plus a ``.lock`` file that the instance
keeps locked (``flock``) for as long as it runs. The operating system drops the lock when the process dies, even by
SIGKILL, so a recovery file whose lock can be taken belongs to a dead instance and is offered for recovery; the
files of live instances are never listed, so two instances never take each other's work.

A recovery file holds the canonical project text, the original path, the time and a title. No Qt here: the GUI's
``gui.shell.recovery.Autosaver`` decides when to write.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.errors import TorchCanvasError
from core.files.file_errors import FileWriteError
from core.files.fileio import atomic_write_bytes
from core.files.fileread import FileReadError, read_regular_file
from core.files.project import Project, dumps, loads

ENV_DIR = "TORCHCANVAS_RECOVERY_DIR"
FORMAT = "torchcanvas-recovery"
SUFFIX = ".recovery.json"
LOCK_SUFFIX = ".lock"
MAX_RECOVERY_BYTES = 64 * 1024 * 1024

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # pragma: no cover - Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]


class RecoveryError(TorchCanvasError):
    """A recovery file could not be written or read."""


def recovery_dir() -> Path:
    """Where recovery files live: $TORCHCANVAS_RECOVERY_DIR, else the per-user state folder."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("TorchCanvas", appauthor=False)) / "recovery"


# --- locks ---------------------------------------------------------------------------------------------------
def _try_lock(handle: IO[bytes]) -> bool:
    """Take an exclusive lock without waiting; False when another process (or another handle) holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:  # pragma: no cover - Windows
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _unlock(handle: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        elif msvcrt is not None:  # pragma: no cover - Windows
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


# --- this instance's slot ------------------------------------------------------------------------------------
class RecoverySlot:
    """The recovery file of this running instance, and the lock that marks it as alive."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else recovery_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecoveryError(f"Cannot create the recovery folder {self.directory}: {exc.strerror or exc}") from None
        stem = f"{os.getpid()}-{int(time.time())}-{secrets.token_hex(4)}"
        self.path = self.directory / f"{stem}{SUFFIX}"
        self.lock_path = self.directory / f"{stem}{LOCK_SUFFIX}"
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise RecoveryError(f"Cannot create {self.lock_path}: {exc.strerror or exc}") from None
        self._lock: IO[bytes] | None = os.fdopen(fd, "r+b")
        self._lock.write(str(os.getpid()).encode())
        self._lock.flush()
        if not _try_lock(self._lock):  # pragma: no cover - a fresh, uniquely named file
            raise RecoveryError(f"Cannot lock {self.lock_path}")

    @property
    def alive(self) -> bool:
        return self._lock is not None

    def write(
        self,
        project: Project,
        original_path: str | Path | None = None,
        title: str | None = None,
        original_sha256: str | None = None,
    ) -> Path:
        """Write (atomically) the project as it is now; returns the recovery file's path. ``original_sha256`` is
        the hash of the project file as this instance last read or wrote it: after a crash, a restore can then tell
        whether someone changed that file meanwhile (a save must ask, not overwrite it)."""
        if self._lock is None:
            raise RecoveryError("This recovery slot is closed.")
        if original_path is not None and Path(original_path).resolve() == self.path.resolve():
            raise RecoveryError("Refusing to write a recovery file over the project file.")  # pragma: no cover
        now = time.time()
        record = {
            "format": FORMAT,
            "version": 1,
            "pid": os.getpid(),
            "saved_at": now,
            "saved_at_iso": datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds"),
            "title": title if title is not None else project.name,
            "original_path": str(original_path) if original_path is not None else None,
            "original_sha256": original_sha256,
            "project": dumps(project),
        }
        data = (json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            atomic_write_bytes(self.path, data)
        except FileWriteError as exc:
            raise RecoveryError(f"Could not write the recovery file {self.path}: {exc.cause}.") from None
        return self.path

    def discard(self) -> None:
        """Remove the recovery file (after a clean save); the slot stays alive for the next edits."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        """Remove the recovery file and the lock (a clean exit)."""
        self.discard()
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self.lock_path.unlink()
            _unlock(self._lock)
            self._lock.close()
            self._lock = None

    def abandon(self) -> None:
        """Release the lock but keep both files, as the OS does when the process dies: the recovery file is then
        an orphan the next start offers to restore. Tests and crash drills use it (no real crash needed)."""
        if self._lock is not None:
            _unlock(self._lock)
            self._lock.close()
            self._lock = None

    def __enter__(self) -> RecoverySlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_recovery(
    slot: RecoverySlot, project: Project, original_path: str | Path | None = None, title: str | None = None
) -> Path:
    """Autosave ``project`` into this instance's slot (atomic); never touches ``original_path`` itself."""
    return slot.write(project, original_path, title)


# --- files left by dead instances ----------------------------------------------------------------------------
@dataclass
class Recovery:
    """A recovery file whose instance is gone: what it holds and when it was written."""

    path: Path
    title: str
    original_path: str | None
    saved_at: float
    pid: int
    project_text: str
    original_sha256: str | None = None  # the original file's hash when the autosaving instance last read or wrote it

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name[: -len(SUFFIX)] + LOCK_SUFFIX)

    def project(self) -> Project:
        """The autosaved project, exactly as it was (raises ProjectLoadError if it cannot be read)."""
        return loads(self.project_text.encode("utf-8"), str(self.path))

    def when(self) -> str:
        """Local time of the autosave, e.g. '2026-11-23 20:41'."""
        return datetime.datetime.fromtimestamp(self.saved_at).strftime("%Y-%m-%d %H:%M")


def _owner_alive(json_path: Path) -> bool:
    lock_path = json_path.with_name(json_path.name[: -len(SUFFIX)] + LOCK_SUFFIX)
    try:
        handle = open(lock_path, "r+b")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return _pid_alive(json_path)
    except OSError:
        return True  # cannot tell: leave it alone
    try:
        if fcntl is None and msvcrt is None:  # pragma: no cover
            return _pid_alive(json_path)
        if _try_lock(handle):
            _unlock(handle)
            return False
        return True
    finally:
        handle.close()


def _pid_alive(json_path: Path) -> bool:
    """Without a lock file, fall back to the pid in the name (a reused pid keeps the file: the safe side)."""
    try:
        pid = int(json_path.name.split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _read(json_path: Path) -> Recovery | None:
    try:  # a regular file within the limit only: a FIFO or a device here must not hang start-up
        record: Any = json.loads(read_regular_file(json_path, MAX_RECOVERY_BYTES, "recovery file").decode("utf-8"))
    except (FileReadError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("project"), str):
        return None
    saved_at = record.get("saved_at")
    original = record.get("original_path")
    title = record.get("title")
    pid = record.get("pid")
    digest = record.get("original_sha256")
    return Recovery(
        path=json_path,
        title=title if isinstance(title, str) else "Untitled",
        original_path=original if isinstance(original, str) else None,
        saved_at=float(saved_at) if isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) else 0.0,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
        project_text=record["project"],
        original_sha256=digest if isinstance(digest, str) else None,
    )


def list_orphans(directory: str | Path | None = None) -> list[Recovery]:
    """Recovery files of instances that are no longer running, newest first (unreadable files are skipped)."""
    folder = Path(directory) if directory is not None else recovery_dir()
    if not folder.is_dir():
        return []
    found = []
    for json_path in folder.glob(f"*{SUFFIX}"):
        if _owner_alive(json_path):
            continue
        recovery = _read(json_path)
        if recovery is not None:
            found.append(recovery)
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found


def discard(recovery: Recovery | str | Path) -> None:
    """Delete a dead instance's recovery file and its lock (after restoring it, or when the user declines)."""
    json_path = recovery.path if isinstance(recovery, Recovery) else Path(recovery)
    if _owner_alive(json_path):
        raise RecoveryError(f"{json_path.name} belongs to a running TorchCanvas; it is not discarded.")
    lock_path = json_path.with_name(json_path.name[: -len(SUFFIX)] + LOCK_SUFFIX)
    for path in (json_path, lock_path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
