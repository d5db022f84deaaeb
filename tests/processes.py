"""How tests start real processes (`hearth`, the window): `spawn` starts one as a terminal
would, and every process a test spawned is killed when the test ends (tests/conftest.py), so a
failing or timed-out test never leaves a server or a window running."""

from __future__ import annotations

import signal
import subprocess

_spawned: list[subprocess.Popen] = []


def as_from_a_terminal() -> None:
    """Ctrl-C (SIGINT) as a terminal delivers it. bash ignores SIGINT in the jobs it starts in
    the background, a test run started that way hands the ignore down to every child, and a
    Python started with SIGINT ignored installs no KeyboardInterrupt handler: the Ctrl-C tests
    then wait in vain. Run in the child before `hearth` starts (subprocess's preexec_fn)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(args: list[str], **options) -> subprocess.Popen:
    """subprocess.Popen, with Ctrl-C as from a terminal, ended with the test at the latest."""
    process = subprocess.Popen(args, preexec_fn=as_from_a_terminal, **options)
    _spawned.append(process)
    return process


def end_leftovers() -> list[list[str]]:
    """Kills what the test's processes left running; returns their command lines."""
    left = []
    for process in _spawned:
        if process.poll() is None:
            left.append(list(process.args))
            process.kill()
            process.wait(10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    _spawned.clear()
    return left
