"""A script constant with a comment, for a long path: ruff format leaves the line as written (it wrapped a
``DATA_FILE = "..."  # comment`` past 88 columns in parentheses, so a script exported for a file deep in a
folder failed ``ruff format --check``)."""

from __future__ import annotations

import subprocess
import sys

from core.code.script_data import constant_line
from core.datasets.spec import Constant


def ruff_formatted(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "-"], input=code, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_commented_path_constant_is_as_ruff_formats_it():
    lines = [
        constant_line(Constant("DATA_FILE", f"/home/user/{'d' * n}/houses.csv", "the table"))
        for n in range(20, 90, 3)  # across 88 columns, with and without room for ruff's parentheses
    ]
    code = "\n".join(lines) + "\n"
    assert ruff_formatted(code) == code


def test_a_short_constant_keeps_its_comment_beside_it():
    assert constant_line(Constant("SEED", 0, "the split")) == "SEED = 0  # the split"
