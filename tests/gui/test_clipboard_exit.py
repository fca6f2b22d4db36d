"""Regression: after Copy, quitting the app segfaulted at interpreter exit (exit code 139)."""

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from gui.shell.mainwindow import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow()
    window.open_example()
    window.scene.select_nodes([n.id for n in window.document.graph.nodes][:2])
    window.action_map["copy"].trigger()
    window.document.undo_stack.setClean()
    QTimer.singleShot(0, app.quit)
    app.exec()
    print("quit cleanly")
    """
)


def test_quitting_after_copy_exits_cleanly():
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
        assert "quit cleanly" in result.stdout
