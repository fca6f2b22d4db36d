"""Whole-app smoke tests in a subprocess, so a hard crash (PySide6 6.12's none_dealloc) fails the test instead
of killing pytest; and the ``--screenshot`` flag end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import time
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication
    import pyqtgraph as pg
    from gui.shell.mainwindow import MainWindow

    app = QApplication([])
    window = MainWindow(settings=QSettings(r"{settings}", QSettings.Format.IniFormat))
    window.open_example()
    plot = pg.PlotWidget(title="loss")
    curve = plot.plot([0, 1, 2], [3, 1, 2])
    window.add_dock("Plot", plot, Qt.DockWidgetArea.BottomDockWidgetArea, "smoke_plot")
    window.show()
    end = time.monotonic() + 3.0
    step = 0
    while time.monotonic() < end:
        app.processEvents()
        step += 1
        curve.setData(list(range(step % 50 + 2)), [i * i for i in range(step % 50 + 2)])
        window.editor.add_layer("ReLU", (float(step % 7) * 40, 400.0))
        if step % 3 == 0:
            window.document.undo_stack.undo()
        time.sleep(0.01)
    window.document.undo_stack.setClean()
    window.close()
    del window
    app.processEvents()
    print("SMOKE OK", step)
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return env


def test_window_with_plot_and_scene_survives_event_processing(tmp_path):
    script = SCRIPT.format(settings=tmp_path / "settings.ini")
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", script],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert "SMOKE OK" in done.stdout


def test_screenshot_flag_writes_a_1600x1000_png(tmp_path):
    out = tmp_path / "shot.png"
    code = "import sys; from gui.shell.launch import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "--screenshot", str(out), str(REPO / "resources/examples/mnist_cnn.json")],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
