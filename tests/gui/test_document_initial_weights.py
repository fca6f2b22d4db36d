"""Save As of an imported project carries its initial weights without loading torch (the weights file is a files
module, ``core.files.initial_weights``, since it left the torch.fx importer's package: issue 25's floors)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

SAVE_AS = """
import sys
from pathlib import Path
from core.files.project import Project, save
from gui.shell.document import Document

folder = Path(sys.argv[1])
old, new = folder / "net.json", folder / "other" / "copy.json"
new.parent.mkdir()
project = Project()
project.extra["initial_weights"] = "net.initial.pt"
save(project, old)
(folder / "net.initial.pt").write_bytes(b"the imported weights")
document = Document(project)
document.path = old
document.save_as(new)
print((new.parent / "net.initial.pt").read_bytes().decode(), "torch" in sys.modules)
"""


@pytest.mark.slow  # a child process imports Qt and the shell: about a second
def test_save_as_carries_the_initial_weights_without_torch(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SAVE_AS, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["the", "imported", "weights", "False"]
