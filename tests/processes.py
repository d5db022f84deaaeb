"""How tests start real processes (`hearth`, the window): `spawn` starts one as a terminal
would, and every process a test spawned is killed when the test ends (tests/conftest.py), so a
failing or timed-out test never leaves a server or a window running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def hearth(cwd: Path, *args: str, policy: str = "", **env: str) -> subprocess.Popen:
    """`hearth ARGS` in `cwd`, with a policy file of its own (`policy`: its text), the models
    folder `cwd/models`, and output read as text."""
    policy_file = cwd / "policy.toml"
    policy_file.write_text(policy)
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_POLICY": str(policy_file),
                   "HEARTH_MODELS_DIR": str(cwd / "models"), **env}
    environment.pop("HEARTH_API_KEY", None)
    return spawn([sys.executable, "-m", "cli.main", *args], cwd=cwd, env=environment,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def serving_url(process: subprocess.Popen, seconds: float = 60) -> tuple[str, str]:
    """(the URL `hearth serve` says it serves at, the line that said it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if match := re.search(r"at (http://\S+/v1)", line):
            return match.group(1), line
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"hearth serve did not start: {process.stderr.read()}")


def read_until(stream, marker: str, limit: float = 60.0) -> str:
    """What `stream` gives up to and including `marker` (an assertion after `limit` seconds)."""
    seen, deadline = "", time.monotonic() + limit
    while marker not in seen:
        char = stream.read(1)
        assert char and time.monotonic() < deadline, f"no {marker!r} in {seen!r}"
        seen += char
    return seen
