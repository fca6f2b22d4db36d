"""The window's process does not exit while a thread is inside torch's import (a --screenshot of mnist_cnn in a
fresh clone aborted: 'terminate called without an active exception', exit -6)."""

from __future__ import annotations

import threading
import time

from gui.shell.app import IMPORTING_THREADS, wait_for_background_imports


def test_exit_waits_for_the_preview_and_warm_up_threads() -> None:
    done: list[str] = []

    def slow(name: str) -> None:
        time.sleep(0.3)
        done.append(name)

    threads = [threading.Thread(target=slow, args=(name,), name=name, daemon=True) for name in IMPORTING_THREADS]
    other = threading.Thread(target=time.sleep, args=(5,), name="someone-else", daemon=True)
    for thread in (*threads, other):
        thread.start()
    started = time.monotonic()
    wait_for_background_imports(timeout=10)
    assert sorted(done) == sorted(IMPORTING_THREADS)
    assert time.monotonic() - started < 3  # threads of others are not waited for


def test_the_wait_has_a_limit() -> None:
    thread = threading.Thread(target=time.sleep, args=(3,), name=IMPORTING_THREADS[0], daemon=True)
    thread.start()
    started = time.monotonic()
    wait_for_background_imports(timeout=0.2)
    assert time.monotonic() - started < 1.5
