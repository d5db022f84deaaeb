"""macOS: the worker under `sandbox-exec` with a profile that denies every network operation and
every write outside the session folder. UNTESTED HERE: written from Apple's sandbox profile
language (SBPL) as Chromium and OpenAI's Codex CLI use it, never run on a Mac by these tests.

`sandbox-exec` is marked deprecated but ships with every macOS and is what the system's own
services use. What it does not do: limit memory (macOS ignores RLIMIT_AS) or hide the person's
files from reading. The folders are passed as parameters (-D), real paths (/tmp is /private/tmp),
so no path is ever spliced into the profile's text.
"""

from __future__ import annotations

import os
from pathlib import Path

SANDBOX_EXEC = "/usr/bin/sandbox-exec"
PROFILE = """(version 1)
(allow default)
(deny network*)
(deny file-write*)
(allow file-write*
    (subpath (param "SCRATCH"))
    (subpath (param "TMP"))
    (literal "/dev/null")
    (literal "/dev/tty")
    (regex #"^/dev/fd/"))
"""
LAYERS = ("sandbox-exec profile (no network, writes only in the session folder)",)


def available() -> bool:
    return os.access(SANDBOX_EXEC, os.X_OK)


def wrap(command: list[str], scratch: Path, tmp: Path) -> list[str]:
    """`command` run under the profile."""
    return [SANDBOX_EXEC, "-D", f"SCRATCH={os.path.realpath(scratch)}", "-D", f"TMP={os.path.realpath(tmp)}",
            "-p", PROFILE, *command]
