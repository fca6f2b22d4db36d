"""End to end: edit in the real app, SIGKILL it, start it again and restore exactly the last autosaved state.

Runs the app twice (offscreen) through the test-only entry point ``python -m tests.gui.app_with_hook``, with
``TORCHCANVAS_TEST_SCRIPT`` pointing at a small script that it executes once the window is shown: the first makes
edits through the undo stack, the second clicks Restore in the real dialog and reports the document it then holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = [sys.executable, "-m", "tests.gui.app_with_hook"]  # the real app plus the test hook; not the shipped command

EDITS = textwrap.dedent(
    """
    import os
    from pathlib import Path
    from core.files.project import dumps
    from gui.commands.graph import AddNodeCommand, RenameCommand, set_param

    doc = window.document
    graph = doc.graph
    first = next(n for n in graph.nodes if n.type == "Linear")
    doc.undo_stack.push(set_param(graph, first.id, "out_features", 99))
    doc.undo_stack.push(RenameCommand(graph, first.id, "hidden_wide"))
    doc.undo_stack.push(AddNodeCommand(graph, graph.create_node("Dropout", (480.0, 320.0))))
    target = Path(os.environ["TC_EXPECTED"])
    target.with_suffix(".tmp").write_text(dumps(doc.project), encoding="utf-8")
    target.with_suffix(".tmp").replace(target)
    """
)

RESTORE = textwrap.dedent(
    """
    import json, os
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from core.files.project import dumps

    def finish():
        doc = window.document
        report = {"project": dumps(doc.project), "modified": doc.modified, "title": window.windowTitle()}
        Path(os.environ["TC_RESULT"]).write_text(json.dumps(report), encoding="utf-8")
        doc.undo_stack.setClean()  # as if saved: quitting asks nothing and removes this instance's recovery file
        app.quit()

    def click(tries=[0]):
        dialog = QApplication.activeModalWidget()
        if dialog is None or not hasattr(dialog, "restore_button"):
            tries[0] += 1
            if tries[0] > 400:
                finish()
                return
            QTimer.singleShot(50, click)
            return
        dialog.restore_button.click()
        QTimer.singleShot(300, finish)

    click()
    """
)


def _env(tmp_path: Path, script: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        TORCHCANVAS_RECOVERY_DIR=str(tmp_path / "recovery"),
        TORCHCANVAS_AUTOSAVE_MS="300",
        TORCHCANVAS_TEST_SCRIPT=str(script),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def _wait(condition, timeout: float, child: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if child.poll() is not None:
            out, err = child.communicate()
            raise AssertionError(f"the app exited ({child.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _autosaved(folder: Path) -> list[dict]:
    records = []
    for path in folder.glob("*.recovery.json") if folder.exists() else []:
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    return records


@pytest.mark.slow
def test_kill_while_editing_then_restore_exactly(tmp_path: Path) -> None:
    edits, restore = tmp_path / "edits.py", tmp_path / "restore.py"
    edits.write_text(EDITS, encoding="utf-8")
    restore.write_text(RESTORE, encoding="utf-8")
    expected_file, result_file = tmp_path / "expected.json", tmp_path / "result.json"
    folder = tmp_path / "recovery"

    first = subprocess.Popen(
        APP,
        cwd=ROOT,
        env=_env(tmp_path, edits, TC_EXPECTED=str(expected_file)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(expected_file.exists, 120, first, "the edits")
        expected = expected_file.read_text(encoding="utf-8")
        _wait(lambda: any(r["project"] == expected for r in _autosaved(folder)), 60, first, "the autosave")
        autosaved = next(r for r in _autosaved(folder) if r["project"] == expected)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert '"out_features": 99' in expected and '"name": "hidden_wide"' in expected and '"Dropout"' in expected

    second = subprocess.run(
        APP,
        cwd=ROOT,
        env=_env(tmp_path, restore, TC_RESULT=str(result_file)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result_file.exists(), second.stdout + second.stderr
    report = json.loads(result_file.read_text(encoding="utf-8"))
    assert report["project"] == autosaved["project"] == expected  # exactly the last autosaved state
    assert report["modified"] is True  # restored work is unsaved work
    assert list(folder.glob("*")) == []  # the orphan was adopted, and the clean quit removed ours


def test_the_shipped_app_runs_no_file_named_by_the_environment() -> None:
    """The hook is test-only: nothing under core/ or gui/ (what the wheel and the frozen app ship) reads it."""
    shipped = [p for folder in ("core", "gui") for p in (ROOT / folder).rglob("*.py")]
    assert shipped
    readers = [p.relative_to(ROOT).as_posix() for p in shipped if "TORCHCANVAS_TEST_SCRIPT" in p.read_text("utf-8")]
    assert readers == []
