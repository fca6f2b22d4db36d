"""The ``torchcanvas`` console script: core's CLI, with the editor as what runs when no subcommand is given."""

from __future__ import annotations

import argparse
import sys

from core.cli import main as cli_main


def open_editor(args: argparse.Namespace) -> int:
    from gui.shell.app import run_app  # imported only when the GUI is wanted: `torchcanvas check` needs no Qt

    return run_app(args)


def main(argv: list[str] | None = None) -> int:
    return cli_main(argv, open_gui=open_editor)


if __name__ == "__main__":
    sys.exit(main())
