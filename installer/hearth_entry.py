"""The frozen program's entry point: the `hearth` command, exactly as `pip install` makes it
(no arguments opens the window; `hearth --self-test` checks the installation). Started as
`hearth --hearth-python-worker`, it is instead the python tool's sandboxed worker
(core/sandbox/worker.py): in the bundle there is no separate Python to run it."""

import sys

from core.sandbox.worker import run_if_asked

if __name__ == "__main__":
    run_if_asked(sys.argv)  # before anything else is imported: the worker confines itself first
    from cli.main import main

    sys.exit(main())
