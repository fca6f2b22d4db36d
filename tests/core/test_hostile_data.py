"""Data files made to hurt: a named pipe among the images, a gzip bomb of an IDX file. Each must end in one plain
line naming the file, quickly and in little memory, never in a hang or an "out of memory". Each load runs in a
child process with a time limit, so a regression fails the test instead of hanging the suite."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from core.datasets import load_dataset
from tests.core.test_bad_data import png_header
from tests.core.train_fixtures import EXAMPLES, write_images

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = EXAMPLES / "digits_mlp.json"


def load_in_child(spec: str, setup: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """``load_dataset(spec)`` in a fresh interpreter; its DataError's message is printed to stderr, and how much
    its peak memory grew and how long it took to stdout ("grew 12 MB in 0.1 s")."""
    code = textwrap.dedent(
        f"""
        import resource, sys, time
        {setup}
        from core.datasets import load_dataset
        from core.errors import DataError
        before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
        try:
            load_dataset({spec!r})
        except DataError as exc:
            print(exc, file=sys.stderr)
            sys.exit(1)
        finally:
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            print(f"grew {{grown // 1024}} MB in {{time.perf_counter() - started:.1f}} s")
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )


def test_a_fifo_among_the_images_of_a_small_folder_is_refused_not_waited_for(tmp_path) -> None:
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    os.mkfifo(root / "cats" / "pipe.png")
    done = load_in_child(f"folder:{root}", timeout=30)  # before: the image reader waited for a writer forever
    assert done.returncode == 1, done.stderr
    assert "pipe.png: not a regular file but a named pipe (FIFO)" in done.stderr, done.stderr


def test_a_fifo_among_the_images_of_a_big_folder_is_refused_before_training(tmp_path) -> None:
    """A folder too big for memory is read by DataLoader workers: the pipe is refused while listing it."""
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    os.mkfifo(root / "dogs" / "pipe.png")
    lazy = "import core.datasets.folder as folder; folder.MAX_IN_MEMORY_BYTES = 100"
    done = load_in_child(f"folder:{root}", setup=lazy, timeout=30)
    assert done.returncode == 1, done.stderr
    assert "pipe.png: not a regular file but a named pipe (FIFO)" in done.stderr, done.stderr


def test_a_folder_named_like_an_image_is_refused_by_name(tmp_path) -> None:
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    (root / "dogs" / "album.jpg").mkdir()
    done = load_in_child(f"folder:{root}", timeout=30)
    assert done.returncode == 1, done.stderr
    assert "album.jpg: not a regular file but a folder" in done.stderr, done.stderr


# --- IDX gzip bombs: a small .gz that unpacks to gigabytes ------------------------------------------------------
ZEROS = gzip.compress(bytes(16 << 20), compresslevel=9)  # 16 MiB of zeros in about 16 KB


def idx_bomb(path: Path, shape: tuple[int, ...], zeros_mib: int) -> Path:
    """An IDX .gz whose header announces ``shape`` and whose data is ``zeros_mib`` MiB of zeros: gzip members
    one after another, which gzip readers join, so a 1 GiB stream costs the test no time to make."""
    header = b"\x00\x00\x08" + bytes([len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    path.write_bytes(gzip.compress(header) + ZEROS * (zeros_mib // 16))
    return path


def labels_file(path: Path, count: int) -> Path:
    path.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", count) + bytes(k % 10 for k in range(count)))
    return path


def grown_mb(done: subprocess.CompletedProcess) -> int:
    return int(done.stdout.rsplit("grew ", 1)[1].split(" MB")[0])


def test_an_idx_gz_holding_more_than_its_header_announces_is_refused_after_the_announced_bytes(tmp_path) -> None:
    images = idx_bomb(tmp_path / "train-images-idx3-ubyte.gz", (1000, 28, 28), zeros_mib=1024)
    labels = labels_file(tmp_path / "labels.idx", 1000)
    done = load_in_child(f"idx:{images},{labels}")  # before: all 1 GiB was inflated first
    assert done.returncode == 1, done.stderr
    assert (
        "train-images-idx3-ubyte.gz: the header announces shape (1000, 28, 28) but the file holds more than "
        "784000 bytes of data; the file is truncated or damaged" in done.stderr
    ), done.stderr
    assert grown_mb(done) < 100, done.stdout


def test_an_idx_gz_announcing_an_absurd_shape_is_refused_from_its_header(tmp_path) -> None:
    images = idx_bomb(tmp_path / "bomb-images.gz", (1_000_000, 1000, 1000), zeros_mib=1024)  # 10**12 bytes
    labels = labels_file(tmp_path / "labels.idx", 1000)
    done = load_in_child(f"idx:{images},{labels}")
    assert done.returncode == 1, done.stderr
    assert (
        "bomb-images.gz: the header announces shape (1000000, 1000, 1000) (1000000000000 bytes), more than "
        "the 1073741824 bytes an IDX file is read up to" in done.stderr
    ), done.stderr
    assert grown_mb(done) < 100, done.stdout


def test_an_idx_gz_announcing_more_than_it_holds_costs_only_what_it_holds(tmp_path) -> None:
    images = idx_bomb(tmp_path / "short-images.gz", (1_000_000, 1000), zeros_mib=32)  # 10**9 announced, 32 MiB held
    labels = labels_file(tmp_path / "labels.idx", 1000)
    done = load_in_child(f"idx:{images},{labels}")
    assert done.returncode == 1, done.stderr
    assert (
        "short-images.gz: the header announces shape (1000000, 1000) but the file holds 33554432 bytes" in done.stderr
    ), done.stderr
    assert grown_mb(done) < 200, done.stdout


# --- the words around a refusal -------------------------------------------------------------------------------
def test_a_refused_image_is_one_line_without_the_libraries_warnings(tmp_path) -> None:
    """Pillow warns about a 100-megapixel image ("could be decompression bomb DOS attack") before it fails to
    decode it: the terminal showed that warning, two lines of it, around our one line."""
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    png_header(root / "cats" / "big.png", 10_000, 10_000)
    code = (
        f"import sys; from core.cli import main; sys.exit(main(['train', {str(EXAMPLE)!r}, '--data', 'folder:{root}']))"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONWARNINGS": "default"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "big.png: this image cannot be read" in lines[0], done.stderr


def test_big_endian_arrays_load_like_native_ones(tmp_path) -> None:
    """torch refuses big-endian arrays; its sentence ("byte order different from the native") was the message."""
    x = np.random.default_rng(0).random((20, 4, 4)).astype(np.float32)
    np.savez(tmp_path / "native.npz", x_train=x, y_train=np.arange(20) % 2)
    np.savez(tmp_path / "swapped.npz", x_train=x.astype(">f4"), y_train=(np.arange(20) % 2).astype(">i8"))
    native, swapped = (load_dataset(f"npz:{tmp_path / name}.npz") for name in ("native", "swapped"))
    assert torch.equal(native.x_train, swapped.x_train) and torch.equal(native.y_train, swapped.y_train)


def test_the_editor_does_not_wait_on_a_named_pipe_given_as_data(tmp_path) -> None:
    """``dataset_info`` peeks at the data after every edit (and in ``check``): opening a pipe froze the window."""
    pipe = tmp_path / "data.npz"
    os.mkfifo(pipe)
    code = f"from core.datasets.info import dataset_info; print(dataset_info('npz:{pipe}'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "None", done.stderr  # not known without reading it: the checks skip it


def test_loads_in_two_threads_leave_the_warnings_machinery_as_it_was(tmp_path, monkeypatch) -> None:
    """The preview loads in a thread while a run may load in another; ``catch_warnings`` is process-wide, and two
    of them ending in the wrong order left a dead recorder in place, swallowing every later warning."""
    import threading
    import warnings

    from core.datasets import files

    np.savez(tmp_path / "a.npz", x_train=np.zeros((20, 4, 4), np.float32), y_train=np.arange(20) % 2)
    gates = {name: (threading.Event(), threading.Event()) for name in ("first", "second")}
    real = files.load_npz

    def gated(path: str, tokens: bool = False) -> tuple:
        inside, go = gates[threading.current_thread().name]
        inside.set()
        go.wait(10)
        return real(path, tokens)

    monkeypatch.setattr(files, "load_npz", gated)
    before = (warnings._showwarnmsg_impl, warnings.showwarning, list(warnings.filters))  # type: ignore[attr-defined]
    threads = {
        name: threading.Thread(target=load_dataset, args=(f"npz:{tmp_path / 'a.npz'}",), name=name) for name in gates
    }
    for name in ("first", "second"):  # both inside a load ...
        threads[name].start()
        assert gates[name][0].wait(10)
    for name in ("first", "second"):  # ... the first to start ends first
        gates[name][1].set()
        threads[name].join(10)
    after = (warnings._showwarnmsg_impl, warnings.showwarning, list(warnings.filters))  # type: ignore[attr-defined]
    assert after == before
