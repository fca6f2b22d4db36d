"""Trial 4 I.8: ``torchcanvas --help`` lists every command with every option its parser takes; before, the block
left out import and install-desktop, lr-find's --data/--start/--end and train's --tensorboard/--fine-tune/
--from-scratch/--no-health. The block stays hand-written (the parsers' modules import numpy or torch, which --help
must not wait for), so this test reads every command's parser and finds each option in the help and in README's
command list."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from core import cli

ROOT = Path(__file__).resolve().parents[2]


def _every_command() -> dict[str, list[list[str]]]:
    """Each command's options (each with its spellings) and positional arguments (their metavar), from its parser."""
    for module in cli.COMMAND_MODULES.values():
        cli._load_command(module)
    names: dict[str, list[list[str]]] = {}
    for name, (configure, _) in cli.COMMANDS.items():
        parser = argparse.ArgumentParser(prog=f"torchcanvas {name}")
        configure(parser)
        words = []
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue  # a hidden option (import's --replace-project, for its own child process)
            words.append(list(action.option_strings) or [str(action.metavar or action.dest)])
        names[name] = words
    return names


def _help() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "core", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _entry(text: str, name: str, start: str) -> str:
    """One command's lines in a list of commands: from ``torchcanvas NAME `` to the next command."""
    parts = text.split(f"{start}torchcanvas {name} ", 1)
    assert len(parts) == 2, f"torchcanvas {name} is not in the list"
    return parts[1].split(f"{start}torchcanvas ", 1)[0]


def test_the_help_lists_every_command_and_each_of_its_options() -> None:
    text = _help()
    commands = _every_command()
    assert {"check", "export", "train", "data", "lr-find", "import", "install-desktop"} <= set(commands)
    for name, words in commands.items():
        entry = _entry(text, name, "\n  ")
        for spellings in words:
            if spellings[0].startswith("-"):
                found = [w for w in spellings if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", entry)]
                assert found, f"torchcanvas --help: {name} {spellings}"
    for word in ("--tensorboard", "--fine-tune", "--from-scratch", "--no-health", "--start", "--end"):
        assert word in text  # what the trial found missing


def test_readmes_command_list_names_every_option() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, words in _every_command().items():
        entry = _entry(readme, name, "\n")
        for spellings in words:
            if spellings[0].startswith("-"):
                assert any(w in entry for w in spellings), f"README: torchcanvas {name} {spellings}"
