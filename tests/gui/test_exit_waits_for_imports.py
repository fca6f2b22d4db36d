"""The window's process does not exit while a thread is inside torch's import (a --screenshot of mnist_cnn in a
fresh clone aborted: 'terminate called without an active exception', exit -6)."""

from __future__ import annotations

import threading
import time

from gui.shell.app import IMPORTING_THREADS, wait_for_background_imports


def _joins(monkeypatch) -> list[tuple[str, float | None]]:
    """Each thread the wait joins, with the seconds it gives it: what was waited for, without a clock (a wall-clock
    bound failed on a busy machine)."""
    joined: list[tuple[str, float | None]] = []
    join = threading.Thread.join

    def spy(thread: threading.Thread, timeout: float | None = None) -> None:
        joined.append((thread.name, timeout))
        join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", spy)
    return joined


def test_exit_waits_for_the_preview_and_warm_up_threads(monkeypatch) -> None:
    done: list[str] = []
    release = threading.Event()

    def slow(name: str) -> None:
        time.sleep(0.3)
        done.append(name)

    threads = [threading.Thread(target=slow, args=(name,), name=name, daemon=True) for name in IMPORTING_THREADS]
    other = threading.Thread(target=release.wait, name="someone-else", daemon=True)
    for thread in (*threads, other):
        thread.start()
    joined = _joins(monkeypatch)
    try:
        wait_for_background_imports(timeout=10)
    finally:
        release.set()
    assert sorted(done) == sorted(IMPORTING_THREADS)
    assert sorted(name for name, _ in joined) == sorted(IMPORTING_THREADS)  # threads of others are not waited for


def test_the_wait_has_a_limit(monkeypatch) -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name=IMPORTING_THREADS[0], daemon=True)
    thread.start()
    joined = _joins(monkeypatch)
    try:
        wait_for_background_imports(timeout=0.2)  # without a limit this never returns: the thread waits for us
        assert thread.is_alive()
    finally:
        release.set()
    assert [name for name, _ in joined] == [IMPORTING_THREADS[0]]
    assert all(timeout is not None and timeout <= 0.2 for _, timeout in joined), joined
