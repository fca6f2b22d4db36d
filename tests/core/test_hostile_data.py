"""Data files made to hurt: a named pipe among the images, a gzip bomb of an IDX file. Each must end in one plain
line naming the file, quickly and in little memory, never in a hang or an "out of memory". Each load runs in a
child process with a time limit, so a regression fails the test instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.core.train_fixtures import write_images

ROOT = Path(__file__).resolve().parents[2]


def load_in_child(spec: str, setup: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """``load_dataset(spec)`` in a fresh interpreter; its DataError's message is printed to stderr."""
    code = textwrap.dedent(
        f"""
        import sys
        {setup}
        from core.datasets import load_dataset
        from core.errors import DataError
        try:
            load_dataset({spec!r})
        except DataError as exc:
            print(exc, file=sys.stderr)
            sys.exit(1)
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
