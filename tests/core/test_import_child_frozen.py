"""``torchcanvas import --timeout`` runs the import again in a child process. In a frozen build (PyInstaller)
``sys.executable`` is the app, which has no ``python -m core``: its own command line is core's
(``packaging/torchcanvas_main.py``), so the child must be ``[app, "import", ...]``, the rule the window's import
dialog follows too (one function in core.import_command)."""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

NET = """from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        return self.fc(x)
"""
ENTRY = Path(__file__).resolve().parents[2] / "packaging" / "torchcanvas_main.py"


def test_the_frozen_apps_child_is_the_app_with_import(tmp_path, monkeypatch) -> None:
    from core import import_command

    app = str(tmp_path / "torchcanvas")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", app)
    args = argparse.Namespace(source="torchvision:resnet18", out="r.json", weights="w.pt", force=True)
    args.replace_project = False
    command = import_command.child_command(args)
    assert command == [app, "import", "torchvision:resnet18", "-o", "r.json", "--weights=w.pt", "--force"]
    assert import_command.child_environment().get("PYTHONPATH") == os.environ.get("PYTHONPATH")
    monkeypatch.delattr(sys, "frozen")
    assert import_command.child_cli() == [app, "-m", "core"]  # a clone or a wheel: core with its Python


@pytest.mark.slow  # imports a model in the stand-in child (torch): seconds
def test_the_frozen_app_runs_the_timed_import_as_its_own_subcommand(tmp_path, monkeypatch, capsys) -> None:
    """The child's command line, run as the frozen executable runs it, imports the model."""
    source = tmp_path / "net.py"
    source.write_text(NET, encoding="utf-8")
    out = tmp_path / "net.json"
    app = str(tmp_path / "dist" / "torchcanvas" / "torchcanvas")
    ran: list[tuple[list[str], dict[str, str]]] = []

    def as_the_frozen_app(command, env, timeout, check):
        """The child, run as the frozen executable runs it: its entry file as __main__ with argv = command."""
        ran.append((list(command), dict(env)))
        monkeypatch.setattr(sys, "argv", list(command))
        with pytest.raises(SystemExit) as ended:
            runpy.run_path(str(ENTRY), run_name="__main__")
        return subprocess.CompletedProcess(command, ended.value.code)

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", app)
    monkeypatch.setattr(subprocess, "run", as_the_frozen_app)
    code = main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "2", "--timeout", "60"])
    assert code == 0, capsys.readouterr().err
    [(command, env)] = ran
    assert command == [app, "import", f"{source}:Net", "-o", str(out), "--input-shape=2"]
    assert env.get("PYTHONPATH") == os.environ.get("PYTHONPATH")  # the frozen app carries core inside itself
    assert out.is_file() and (tmp_path / "net.initial.pt").is_file()
