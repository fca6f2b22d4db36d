"""``torchcanvas --screenshot`` never waits on a dialog nobody can see: a file that cannot be opened and a project
that cannot train end the process with a message and a non-zero exit code (run in a subprocess, with a timeout,
because the bug was a hang)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def launch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TORCHCANVAS_LOG_DIR": str(tmp_path / "logs")}
    env["TORCHCANVAS_RECOVERY_DIR"] = str(tmp_path / "recovery")
    command = [sys.executable, "-m", "gui", *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False)


def test_screenshot_of_a_file_that_is_not_a_project_exits_2_with_the_message(tmp_path):
    not_a_project = tmp_path / "notes.json"
    not_a_project.write_text("these are my notes, not a project", encoding="utf-8")
    done = launch(tmp_path, "--screenshot", str(tmp_path / "x.png"), str(not_a_project))
    assert done.returncode == 2, done.stderr
    assert "notes.json" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "x.png").exists()


def test_screenshot_after_training_a_project_that_cannot_train_exits_non_zero(tmp_path):
    project = json.loads((EXAMPLES / "digits_mlp.json").read_text(encoding="utf-8"))
    project["training"]["dataset"] = f"npz:{tmp_path / 'missing.npz'}"
    path = tmp_path / "cannot_train.json"
    path.write_text(json.dumps(project), encoding="utf-8")
    done = launch(tmp_path, "--screenshot", str(tmp_path / "x.png"), "--train-epochs", "1", str(path))
    assert done.returncode not in (0, None), done.stdout + done.stderr
    assert "cannot train" in done.stderr and "missing.npz" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
