"""Entry point of the frozen app (PyInstaller runs this file; an installed wheel uses gui.launch:main)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # DataLoader workers re-enter the frozen executable on spawn platforms
    from gui.launch import main

    sys.exit(main())
