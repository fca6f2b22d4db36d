"""What ``torchcanvas`` does before any window: ``--version`` and ``--help`` answer without importing Qt or torch
(they took 2 s and 660 MB to print a line), and a window size that no window can have is refused in words (it
segfaulted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gui.shell.launch import main

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from gui.shell.launch import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(name for name in ("torch", "PySide6", "numpy", "pyqtgraph") if name in sys.modules)
print("heavy:", ",".join(heavy))
"""


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_import_neither_qt_nor_torch(argv):
    probe = PROBE.format(argv=argv)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "torchcanvas" in done.stdout
    assert done.stdout.rstrip().endswith("heavy:"), done.stdout[-300:]


def test_help_still_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    listed = out.split("commands: ", 1)[1].split(" (", 1)[0].split(", ")
    # every command, those added since included (the list once named five of seven and the test asked for five)
    assert {"check", "data", "export", "train", "install-desktop", "import", "lr-find"} <= set(listed), listed


@pytest.mark.parametrize("size", ["100000x100000", "16385x800", "800x16385", "199x800"])
def test_a_window_size_no_window_can_have_is_refused_with_exit_2(size, capsys):
    from core.cli import main as cli_main

    opened: list[object] = []  # before: the size was accepted and the window opened; Qt crashed making the image
    with pytest.raises(SystemExit) as stop:
        cli_main(["--screenshot", "x.png", "--size", size], open_gui=lambda args: opened.append(args) or 0)
    assert stop.value.code == 2 and not opened
    err = capsys.readouterr().err
    assert f"'{size}': each side of the window must be from 200 to 16384 pixels" in err


def test_the_largest_window_size_is_accepted():
    from core.cli import _gui_parser

    assert _gui_parser().parse_args(["--size", "16384x200"]).size == (16384, 200)
