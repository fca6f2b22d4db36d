"""The one line-wrapping helper (core.code.line_wrap) wraps as ``ruff format`` does: checked against ruff itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.code.line_wrap import call_lines, wrap


def _ruff_format(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "-"], input=code, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _inside(lines: list[str], depth: int) -> str:
    """The lines as the body of ``depth`` nested blocks, so their indentation is legal."""
    head = [f"{'    ' * level}if x{level}:" for level in range(depth)]
    return "\n".join([*head, *lines]) + "\n"


LONG_CALL = "nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False, padding_mode='zeros')"
TEXT = "one, two, three, four, five"
CASES = [
    # a dict comprehension holds commas that are no separators
    (3, lambda: call_lines(" " * 12, "print", ['f"Epoch {epoch}/{EPOCHS}"', "{k: round(v, 4) for k, v in m.items()}"])),
    # string arguments with commas and brackets, too long together for one line
    (2, lambda: wrap(" " * 8, "self.note = ", f'Note("{TEXT}", "({TEXT}", "[{TEXT}")', "")),
    # an argument that is itself too long: wrapped again (call_lines left it over-long)
    (
        1,
        lambda: call_lines(
            "    ", "model = nn.Sequential", [LONG_CALL.replace("'", '"'), "nn.BatchNorm2d(out_channels)"]
        ),
    ),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_wrapped_as_ruff_format_wraps(case: int) -> None:
    depth, make = CASES[case]
    code = _inside(make(), depth)
    assert _ruff_format(code) == code
