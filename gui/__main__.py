import sys

from gui.shell.launch import main

sys.exit(main())
