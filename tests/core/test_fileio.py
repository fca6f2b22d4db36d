"""core.files.fileio: the one atomic write (permissions, line endings, long names, loops, a full disk) and the guarded
read (no devices, no FIFOs, a size limit)."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from core.files.file_errors import FileWriteError, write_failure
from core.files.fileio import atomic_write_bytes, atomic_write_text, atomic_write_with, check_target
from core.files.fileread import FileReadError, read_regular_file


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def full_disk_after(monkeypatch, limit: int) -> None:
    """os.write fails with ENOSPC once ``limit`` bytes went to files (stdout and stderr are left alone)."""
    real_write = os.write
    written = {"n": 0}

    def write(fd: int, data) -> int:
        if fd > 2:
            if written["n"] + len(data) > limit:
                room = max(limit - written["n"], 0)
                if room:
                    written["n"] += real_write(fd, bytes(data)[:room])
                    return room
                raise OSError(errno.ENOSPC, "No space left on device")
            written["n"] += len(data)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_new_files_get_ordinary_permissions_and_existing_keep_theirs(tmp_path: Path, umask_022) -> None:
    new = atomic_write_bytes(tmp_path / "a.bin", b"x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    private = tmp_path / "b.txt"
    private.write_text("old")
    private.chmod(0o600)
    atomic_write_text(private, "new")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_text() == "new"


def test_text_is_utf8_with_lf(tmp_path: Path) -> None:
    out = atomic_write_text(tmp_path / "t.py", "a = 1\r\nb = 'é'\rc = 2\n")
    assert out.read_bytes() == "a = 1\nb = 'é'\nc = 2\n".encode()


@pytest.mark.parametrize("length", [242, 250, 255])
def test_a_legal_long_name_works_and_leaves_no_temporary(tmp_path: Path, length: int) -> None:
    name = "n" * (length - 5) + ".json"
    target = atomic_write_text(tmp_path / name, "{}\n")
    assert target.name == name and target.read_text() == "{}\n"
    atomic_write_text(tmp_path / name, "{ }\n")  # replacing it works too
    assert _temps(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_name_over_255_bytes_is_a_plain_error(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 128 + ".json")  # 261 bytes in UTF-8
    with pytest.raises(FileWriteError, match=r"the file name is too long \(261 bytes; at most 255\)") as info:
        atomic_write_text(target, "x")
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileWriteError, match="too long"):
        check_target(target)
    assert list(tmp_path.iterdir()) == []


def test_symlink_loop_is_a_plain_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    for call in (lambda: check_target(a), lambda: atomic_write_text(a, "x")):
        with pytest.raises(FileWriteError, match="points back to itself") as info:
            call()
        assert str(a) in str(info.value)
    loop_dir = tmp_path / "loop"
    loop_dir.symlink_to(loop_dir)
    with pytest.raises(FileWriteError, match="loop"):
        atomic_write_text(loop_dir / "net.json", "x")


def test_a_symlink_is_never_written_through(tmp_path: Path, tmp_path_factory) -> None:
    """A link planted where a file is written (``out.py -> ~/.bashrc``) would have the write replace the file it
    names, anywhere; every writer refuses it instead, naming the link and what it points to."""
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "precious.txt"
    elsewhere.write_text("must survive")
    link = tmp_path / "link.json"
    link.symlink_to(elsewhere)
    dangling = tmp_path / "dangling.pt"
    dangling.symlink_to(elsewhere.with_name("not-made-yet.pt"))
    writers = {
        "text": lambda path: atomic_write_text(path, "new"),
        "bytes": lambda path: atomic_write_bytes(path, b"new"),
        "handle": lambda path: atomic_write_bytes(path, lambda handle: torch.save({}, handle)),
        "path": lambda path: atomic_write_with(path, lambda inner: inner.write_bytes(b"new")),
        "check": check_target,
    }
    for what, write in writers.items():
        for path, points_to in ((link, elsewhere), (dangling, elsewhere.with_name("not-made-yet.pt"))):
            with pytest.raises(FileWriteError) as info:
                write(path)
            assert str(info.value).startswith(f"Could not write {path}: it is a link to {points_to};"), what
            assert path.is_symlink() and _temps(tmp_path) == [], what
    assert elsewhere.read_text() == "must survive" and not elsewhere.with_name("not-made-yet.pt").exists()
    folder_link = tmp_path / "via"
    folder_link.symlink_to(elsewhere.parent, target_is_directory=True)
    atomic_write_text(folder_link / "new.txt", "a link above the file is fine")
    assert (elsewhere.parent / "new.txt").read_text() == "a link above the file is fine"


def test_full_disk_keeps_the_old_file_and_says_so(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "train.py"
    target.write_bytes(b"old content\n" * 100)
    before = target.read_bytes()
    full_disk_after(monkeypatch, 4096)
    with pytest.raises(FileWriteError) as info:
        atomic_write_text(target, "x = 1\n" * 10_000)
    monkeypatch.undo()
    assert str(info.value) == f"Could not write {target}: the disk is full; free some space and try again."
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == before and _temps(tmp_path) == []


def test_full_disk_inside_torch_save_is_named_not_hidden(tmp_path: Path, monkeypatch) -> None:
    """torch.save turns a failed write into '[enforce fail at inline_container.cc]'; the cause must come through."""
    target = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3)}, target)
    before = target.read_bytes()
    state = {"w": torch.zeros(100_000)}
    full_disk_after(monkeypatch, 20_000)
    with pytest.raises(FileWriteError, match="the disk is full") as info:
        atomic_write_bytes(target, lambda handle: torch.save(state, handle))
    monkeypatch.undo()
    assert "inline_container" not in str(info.value) and str(target) in str(info.value)
    assert target.read_bytes() == before and _temps(tmp_path) == []


def test_other_errors_of_the_writer_propagate_and_leave_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")

    def broken(handle) -> None:
        handle.write(b"partial")
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        atomic_write_bytes(target, broken)
    assert target.read_bytes() == b"old" and _temps(tmp_path) == []


def test_path_writers_work_in_a_temporary_folder_and_move_side_files(tmp_path: Path) -> None:
    target = tmp_path / "net.onnx"
    target.write_bytes(b"old")

    def fails(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(FileWriteError, match="the disk is full"):
        atomic_write_with(target, fails)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]

    def writes(path: Path) -> None:
        assert path.name == "net.onnx" and path.parent != tmp_path
        path.with_name("net.onnx.data").write_bytes(b"weights")
        path.write_bytes(b"new")

    assert atomic_write_with(target, writes) == target
    assert target.read_bytes() == b"new" and (tmp_path / "net.onnx.data").read_bytes() == b"weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "net.onnx.data"]


def test_pytorch_writer_failure_is_recognised() -> None:
    exc = RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file data/0")
    failure = write_failure(exc, "/x/net.pt2")
    assert failure is not None and "inline_container" not in str(failure) and "/x/net.pt2" in str(failure)
    assert write_failure(RuntimeError("shape mismatch in aten::mm"), "/x/net.pt2") is None


def test_reading_refuses_devices_and_big_files(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="not a regular file"):
        read_regular_file("/dev/zero", 1024)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(FileReadError, match="too large"):
        read_regular_file(big, 1024, "project file")
    assert read_regular_file(big, 4096) == b" " * 2048
    with pytest.raises(FileReadError, match="folder"):
        read_regular_file(tmp_path, 1024)
    with pytest.raises(FileReadError, match="no such file"):
        read_regular_file(tmp_path / "missing.json", 1024)


def test_reading_a_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_regular_file(fifo, 1024)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(30)  # a blocked read never returns; a refused one returns at once, however loaded the machine
    if thread.is_alive():  # unblock the reader so the test process can end
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert outcome and isinstance(outcome[0], FileReadError) and "pipe (FIFO)" in str(outcome[0])


def test_a_device_or_fifo_is_never_replaced_by_a_file(tmp_path: Path) -> None:
    """As root, os.replace over /dev/null (or -o /dev/stdout) would swap the device for a plain file. Tested on a
    FIFO, so that a regression damages nothing outside the test's folder."""
    fifo = tmp_path / "out.py"
    os.mkfifo(fifo)
    with pytest.raises(FileWriteError, match="not a regular file"):
        atomic_write_text(fifo, "x = 1\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _temps(tmp_path) == []


def test_a_disk_filled_by_the_temporary_file_is_called_full(tmp_path: Path, monkeypatch) -> None:
    """PyTorch's writer says only '[enforce fail at inline_container.cc] unexpected pos'; whether the disk is full
    must be judged while the temporary file still fills it (it used to be removed first, and a disk with room
    again got 'PyTorch could not write the file' instead of the sentence every other writer gives)."""
    import core.files.file_errors as file_errors

    target = tmp_path / "last.pt"
    target.write_bytes(b"the previous weights")

    def usage(folder):
        temps = [p for p in Path(folder).iterdir() if p.name.endswith(".tmp")]
        return SimpleNamespace(free=1024 if temps else 10 * 1024**3)

    def torch_save(handle) -> None:
        handle.write(b"x" * 4096)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")

    monkeypatch.setattr(file_errors.shutil, "disk_usage", usage)
    with pytest.raises(FileWriteError) as info:
        atomic_write_bytes(target, torch_save)
    assert str(info.value) == f"Could not write {target}: the disk is full; free some space and try again."
    assert target.read_bytes() == b"the previous weights" and _temps(tmp_path) == []


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("PytorchStreamWriter failed writing file data/0: No space left on device"),
        OSError("No space left on device"),  # in words only, without an errno
        OSError(errno.ENOSPC, "No space left on device"),
    ],
)
def test_no_space_in_any_words_is_the_disk_is_full(tmp_path: Path, monkeypatch, error: Exception) -> None:
    target = tmp_path / "w.pt"
    target.write_bytes(b"old")

    def save(*args, **kwargs) -> None:
        raise error

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(FileWriteError, match="the disk is full; free some space"):
        atomic_write_bytes(target, lambda handle: torch.save({}, handle))
    assert target.read_bytes() == b"old" and _temps(tmp_path) == []
