"""The repository itself passes ruff (the generated code is checked separately, with ruff's defaults)."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_ruff_check_passes():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:]
