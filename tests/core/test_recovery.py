"""Recovery files: one locked slot per live instance; files of dead instances are offered, live ones never."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import TorchCanvasError
from core.files.project import dumps, load
from core.files.recovery import ENV_DIR, RecoverySlot, discard, list_orphans, recovery_dir, write_recovery

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from core.files.project import load
    from core.files.recovery import RecoverySlot, write_recovery
    slot = RecoverySlot({folder!r})
    project = load({project!r})
    project.graph.set_param("n3", "out_features", 77)
    write_recovery(slot, project, {original!r}, "child work")
    print(slot.path, flush=True)
    if {die}:
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # stay alive (holding the lock) until the test closes stdin
    """
)


def _child(folder: Path, die: bool, original: str | None = "/somewhere/net.json") -> tuple[subprocess.Popen, Path]:
    script = CHILD.format(root=str(ROOT), folder=str(folder), project=str(MLP), original=original, die=die)
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    line = child.stdout.readline().decode().strip()
    assert line, child.stderr.read().decode() if child.stderr else ""
    return child, Path(line)


def test_folder_comes_from_env_or_platformdirs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "rec"))
    assert recovery_dir() == tmp_path / "rec"
    monkeypatch.delenv(ENV_DIR)
    assert recovery_dir().name == "recovery" and "TorchCanvas" in str(recovery_dir())


def test_slot_writes_atomically_and_holds_everything_needed(tmp_path: Path) -> None:
    user_file = tmp_path / "net.json"
    user_file.write_bytes(MLP.read_bytes())
    project = load(user_file)
    project.graph.set_param("n3", "out_features", 33)
    with RecoverySlot(tmp_path / "rec") as slot:
        path = write_recovery(slot, project, user_file, "net.json")
        assert path.parent == tmp_path / "rec" and path.name.startswith(f"{os.getpid()}-")
        assert user_file.read_bytes() == MLP.read_bytes()  # never over the user's file
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["project"] == dumps(project)
        assert record["original_path"] == str(user_file) and record["title"] == "net.json"
        assert record["saved_at"] > 0 and record["saved_at_iso"].endswith("+00:00")
        assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert list((tmp_path / "rec").iterdir()) == []  # a clean close leaves nothing


def test_own_live_slot_is_never_offered(tmp_path: Path) -> None:
    with RecoverySlot(tmp_path) as slot:
        slot.write(load(MLP))
        assert list_orphans(tmp_path) == []
        with pytest.raises(TorchCanvasError, match="running"):
            discard(slot.path)
        slot.discard()
        assert not slot.path.exists() and slot.lock_path.exists()


@pytest.mark.slow
def test_killed_instance_is_offered_with_its_exact_project(tmp_path: Path) -> None:
    child, path = _child(tmp_path, die=True)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    orphans = list_orphans(tmp_path)
    assert [o.path for o in orphans] == [path]
    orphan = orphans[0]
    assert orphan.title == "child work" and orphan.original_path == "/somewhere/net.json"
    project = orphan.project()
    assert project.graph.node("n3").params["out_features"] == 77
    expected = load(MLP)
    expected.graph.set_param("n3", "out_features", 77)
    assert dumps(project) == dumps(expected)
    assert len(orphan.when()) == 16
    discard(orphan)
    assert list(tmp_path.iterdir()) == [] and list_orphans(tmp_path) == []


@pytest.mark.slow
def test_two_live_instances_never_take_each_others_files(tmp_path: Path) -> None:
    other, other_path = _child(tmp_path, die=False)
    try:
        with RecoverySlot(tmp_path) as mine:
            mine.write(load(MLP))
            assert list_orphans(tmp_path) == []  # the other instance is alive: not offered
            with pytest.raises(TorchCanvasError):
                discard(other_path)
            assert other_path.exists()
    finally:
        assert other.stdin is not None
        other.kill()
        other.wait(timeout=30)
        for stream in (other.stdin, other.stdout, other.stderr):
            if stream is not None:
                stream.close()
    assert [o.path for o in list_orphans(tmp_path)] == [other_path]  # once it is dead, it is


def test_damaged_or_foreign_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "1-2-aa.recovery.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "1-2-bb.recovery.json").write_text('{"format": "other"}', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("hi", encoding="utf-8")
    assert list_orphans(tmp_path) == []
    assert list_orphans(tmp_path / "missing") == []


def test_file_without_lock_falls_back_to_the_pid(tmp_path: Path) -> None:
    with RecoverySlot(tmp_path) as slot:
        slot.write(load(MLP))
        record = slot.path.read_text(encoding="utf-8")
    dead = tmp_path / "999999999-1-cc.recovery.json"
    dead.write_text(record, encoding="utf-8")
    alive = tmp_path / f"{os.getppid()}-1-dd.recovery.json"
    alive.write_text(record, encoding="utf-8")
    assert [o.path for o in list_orphans(tmp_path)] == [dead]


def test_newest_first(tmp_path: Path) -> None:
    for stamp in (100.0, 300.0, 200.0):
        with RecoverySlot(tmp_path) as slot:
            slot.write(load(MLP), title=str(stamp))
            data = json.loads(slot.path.read_text(encoding="utf-8"))
            data["saved_at"] = stamp
            keep = tmp_path / f"999999999-{int(stamp)}-ee.recovery.json"
            keep.write_text(json.dumps(data), encoding="utf-8")
    assert [o.title for o in list_orphans(tmp_path)] == ["300.0", "200.0", "100.0"]


def test_a_fifo_in_the_recovery_folder_does_not_hang_start_up(tmp_path: Path) -> None:
    """Start-up lists the recovery folder; a FIFO named like a recovery file blocked that read forever."""
    import threading

    from core.files.recovery import list_orphans

    fifo = tmp_path / "999999-1-deadbeef.recovery.json"
    os.mkfifo(fifo)
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(list_orphans(tmp_path)), daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # a writer that closes at once ends the blocked read
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass
        thread.join(5)
        pytest.fail("listing the recovery folder blocked on a FIFO")
    assert found == [[]]
