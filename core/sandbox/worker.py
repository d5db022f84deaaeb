"""The Python worker: one process per chat, running the person's code cell by cell in one
namespace, so variables and imports survive between calls.

Started by process.py with this Python (`sys.executable`): in a source checkout as
`python -E -P -c "<import this module; main()>" ROOT`; in the frozen bundle, where
`sys.executable` is the `hearth` program itself, as `hearth --hearth-python-worker`, which the
bundle's entry point (installer/hearth_entry.py) hands to `run_if_asked()` before anything else.

Protocol (framing.py): Hearth's first message is the settings (launch.WorkerSettings); the worker
confines itself (confine.py) and answers {"ready": true, "kind", "layers", "notes", "mnt_data"}
or {"ready": false, "error", "retry_with"}; then each {"code"} gets {"output", "dropped",
"value", "error"}. The messages travel on the worker's original stdin and stdout, which it keeps
on other descriptors; fd 0 becomes /dev/null and fds 1 and 2 the capture pipe (capture.py), so
nothing the code prints can break a message.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from core.sandbox import cell, framing
from core.sandbox.capture import Capture
from core.sandbox.confine import ConfinementFailed, confine

WORKER_FLAG = "--hearth-python-worker"


def run_if_asked(argv: list[str]) -> None:
    """In the frozen bundle's entry point, first thing: becomes the worker when asked to."""
    if argv[1:2] == [WORKER_FLAG]:
        sys.exit(main())


def main(root: str | None = None) -> int:
    requests, replies = _protocol_pipes()
    settings = framing.read_message(requests)
    if settings is None:
        return 0
    try:
        report = confine(settings)
    except ConfinementFailed as why:
        framing.write_message(replies, {"ready": False, "error": str(why), "retry_with": why.retry_with})
        return 3
    if root in sys.path:
        sys.path.remove(root)  # the code imports numpy, not Hearth's own packages
    sys.argv = [""]  # as in an interactive session, not this worker's command line
    sys.path.insert(0, os.getcwd())  # as in a notebook: modules saved in /mnt/data import
    capture = Capture(keep=4 * settings["output_chars"])
    capture.start()
    _exit_with_parent(os.getppid())
    framing.write_message(replies, {"ready": True, **report})
    return _serve(requests, replies, capture)


def _serve(requests, replies, capture: Capture) -> int:
    namespace = cell.new_namespace()
    stdout, stderr = sys.stdout, sys.stderr
    in_cell = threading.Event()

    def interrupt(signum, frame):  # Stop: a KeyboardInterrupt in the cell, never between cells
        if in_cell.is_set():
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    number = 0
    while True:
        request = framing.read_message(requests)
        if request is None:
            return 0
        number += 1
        sys.stdout, sys.stderr = stdout, stderr  # a cell that swapped them does not silence the next
        capture.begin()
        in_cell.set()
        try:
            result = cell.run_cell(request["code"], namespace, number)
        except KeyboardInterrupt:  # arrived after the cell's own handler
            result = cell.CellResult(None, "KeyboardInterrupt")
        finally:
            in_cell.clear()
        output, dropped = capture.end()
        framing.write_message(replies, {"output": output, "dropped": dropped, "value": result.value,
                                        "error": result.error})


def _protocol_pipes():
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    return requests, replies


def _exit_with_parent(parent: int) -> None:
    """A worker whose Hearth died ends too, even in the middle of a long cell. (Not
    PR_SET_PDEATHSIG: that fires when the *thread* that started the worker ends.)"""
    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
