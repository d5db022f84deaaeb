"""The frozen program's entry point: the `hearth` command, exactly as `pip install` makes it
(no arguments opens the window; `hearth --self-test` checks the installation)."""

import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())
