"""Killing the process at any moment of a save leaves the complete old file or the complete new one.

A child process saves three projects of different sizes in turn, as fast as it can, into one file; the test
SIGKILLs it at a random moment, 60 times, and after each kill the file must be byte-identical to one of the
contents ever written (never a mix, never truncated). The temporary files left by kills that landed mid-write
are counted, to show the kills did hit the write.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.files.project import Project, dumps, loads, save

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

ROOT = Path(__file__).resolve().parents[2]
KILLS = 60

CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from tests.core.test_kill_save import variant
    from core.files.project import save
    projects = [variant(k) for k in range(3)]
    target = {target!r}
    k = 0
    while True:
        save(projects[k % 3], target)
        if k == 0:
            print("ready", flush=True)
        k += 1
    """
)


def variant(k: int) -> Project:
    """Three projects whose files differ in size (about 2, 4 and 6 MB) and content."""
    data = {
        "format": "torchcanvas-project",
        "schema_version": 1,
        "name": f"variant {k}",
        "description": "kill-during-save test",
        "graph": {
            "nodes": [
                {
                    "id": "n1",
                    "type": "BigUnknownLayer",
                    "name": "blob",
                    "params": {"values": [k, 0.5, -1e-7], "text": f"{k}0123456789abcdef" * (120_000 * (k + 1))},
                    "pos": [0.0, 0.0],
                }
            ],
            "edges": [],
        },
    }
    import json

    return loads(json.dumps(data).encode())


def test_sigkill_during_save_never_tears_the_file(tmp_path: Path) -> None:
    target = tmp_path / "project.json"
    old = Project(name="the old file")
    save(old, target)
    allowed = {dumps(old).encode("utf-8")} | {dumps(variant(k)).encode("utf-8") for k in range(3)}
    script = CHILD.format(root=str(ROOT), target=str(target))
    rng = random.Random(int(os.environ.get("TC_KILL_SEED", time.time_ns())))
    torn: list[str] = []
    seen: set[bytes] = set()
    started = time.monotonic()
    for kill in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() == b"ready", child.stderr.read().decode() if child.stderr else ""
            time.sleep(rng.uniform(0.0, 0.06))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
        assert child.returncode == -signal.SIGKILL
        content = target.read_bytes()
        if content not in allowed:
            torn.append(f"kill {kill}: {len(content)} bytes")
        seen.add(content)
    temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    elapsed = time.monotonic() - started
    print(f"{KILLS} kills in {elapsed:.1f} s, {len(torn)} torn, {len(temps)} landed mid-write, {len(seen)} contents")
    assert torn == []
    assert len(temps) >= 3, "the kills never landed inside a write; the test proves nothing"
    assert len(seen) >= 2
