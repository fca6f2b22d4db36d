"""The command line meets bad input with one plain line and exit 1 or 2, never a traceback: devices and FIFOs
given as projects, --out that cannot be a folder, unexpected errors (logged to a file), Ctrl+C during training."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core import cli
from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"


@pytest.mark.slow
def test_a_device_is_refused_before_it_is_read() -> None:
    """/dev/zero has size 0 and never ends: reading it ran out of memory (3 GB). In a child process capped at
    1 GB of address space, so a regression fails fast instead of eating the machine."""
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from core.errors import ProjectLoadError\n"
        "from core.files.project import load\n"
        "try:\n"
        "    load('/dev/zero')\n"
        "except ProjectLoadError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-500:]
    assert result.stdout.startswith("/dev/zero: could not read the file: that is a device or special file")


def test_check_refuses_a_fifo_at_once(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "project.json"
    os.mkfifo(fifo)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["check", str(fifo)])), daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # a writer that closes at once ends the blocked read, so the test process can exit
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass
        thread.join(5)
        pytest.fail("torchcanvas check blocked on a FIFO")
    assert codes == [2]
    err = capsys.readouterr().err
    assert f"{fifo}: could not read the file: that is a pipe (FIFO), not a regular file" in err


def test_check_refuses_a_project_over_the_size_limit(tmp_path: Path, capsys) -> None:
    from core.files.project import MAX_FILE_BYTES

    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space used
    assert main(["check", str(big)]) == 2
    assert "too large to be a project file (32.0 MB" in capsys.readouterr().err


def test_train_out_that_is_a_file_is_a_message(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["train", str(MLP), "--epochs", "1", "--out", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"Could not write {afile}: that is a file, not a folder" in err and "Traceback" not in err
    assert afile.read_text() == "x"


def test_train_out_that_cannot_be_created_is_a_message(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "runs"
    assert main(["train", str(MLP), "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Could not write {out}: a part of the path is a file, not a folder" in err


def _command(monkeypatch, exc: BaseException) -> None:
    def run(args: argparse.Namespace) -> int:
        raise exc

    monkeypatch.setitem(cli.COMMANDS, "boom", (lambda p: None, run))


def test_an_unexpected_error_is_logged_and_one_line_is_printed(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    _command(monkeypatch, ValueError("something nobody foresaw"))
    assert main(["boom"]) == 1
    err = capsys.readouterr().err
    log = tmp_path / "logs" / "cli-errors.log"
    assert err.count("\n") == 1 and "something nobody foresaw" in err and str(log) in err
    assert "Traceback" not in err
    assert "Traceback" in log.read_text() and "ValueError: something nobody foresaw" in log.read_text()


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/data/x.npz"), "/data/x.npz: permission denied"),
        (OSError(errno.ENOSPC, "No space left on device", "/runs/a"), "/runs/a: the disk is full"),
        (MemoryError(), "out of memory"),
    ],
)
def test_os_and_memory_errors_are_messages(monkeypatch, capsys, exc: BaseException, words: str) -> None:
    _command(monkeypatch, exc)
    assert main(["boom"]) in (1, 2)
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_during_train_writes_a_stopped_summary(tmp_path: Path) -> None:
    """SIGINT after the first epoch began: the run stops within a batch, summary.json says "stopped"."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "core", "train", str(MLP), "--epochs", "5000", "--out", str(tmp_path)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # "Training on cpu with digits." comes as the first epoch begins
            seen.append(line)
            if line.startswith("Training on"):
                break
        else:
            pytest.fail("training did not start: " + "".join(seen) + process.stderr.read())
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "Stopping after this batch" in err
    assert "Stopped by Ctrl+C" in out
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["epochs"] < 5000


def test_check_names_an_unknown_dataset(tmp_path: Path, capsys) -> None:
    """train and export refuse a project whose dataset is unknown; check said 'OK: the network is valid.'"""
    from core.files.project import load, save

    project = load(MLP)
    project.training.dataset = "nosuch"
    save(project, tmp_path / "p.json")
    assert main(["check", str(tmp_path / "p.json")]) == 1
    captured = capsys.readouterr()
    assert "OK" not in captured.out and "Unknown dataset 'nosuch'" in captured.err
