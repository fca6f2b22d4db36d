"""Entry point of the frozen app (PyInstaller runs this file; an installed wheel uses gui.shell.launch:main)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # DataLoader workers re-enter the frozen executable on spawn platforms
    from gui.shell.launch import main

    sys.exit(main())
