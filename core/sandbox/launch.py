"""How a worker is started: its command line (this Python, or the frozen bundle re-entered), its
environment (nothing of Hearth's: no keys, no proxies), and the settings it is sent first.

The worker always runs the interpreter Hearth runs on, so numpy (a Hearth dependency) is there:
    source checkout / pip install   sys.executable -E -P -c BOOT ROOT  (-E: no PYTHON* variables;
                                    -P: the working directory is not put on sys.path)
    PyInstaller bundle              sys.executable --hearth-python-worker  (sys.executable is the
                                    `hearth` program; its entry point calls worker.run_if_asked)
On macOS the command is wrapped in sandbox-exec (macos.py); on Windows the process is placed in
a job object and an AppContainer (windows.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from core.sandbox.limits import SandboxLimits
from core.sandbox.worker import WORKER_FLAG

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the `core` package
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from core.sandbox.worker import main; "
         "sys.exit(main(sys.argv[1]))")
MODES = ("auto", "namespace", "seccomp")  # Linux; elsewhere the mode is the launcher's
THREADS = 4  # BLAS and OpenMP threads in the worker: each counts against the process limit
_KEPT_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ", "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT")


@dataclass(frozen=True)
class WorkerSettings:
    """The first message to a worker (confine.py reads it)."""

    scratch: str  # the folder that stands for /mnt/data
    tmp: str  # the worker's own temporary folder (TMPDIR, HOME)
    mode: str
    memory_bytes: int
    processes: int
    file_bytes: int
    output_chars: int
    seccomp: bool = True  # off only in a test that shows the namespace alone keeps the network out
    landlock: bool = True

    @classmethod
    def of(cls, scratch: Path, tmp: Path, limits: SandboxLimits, mode: str, **layers: bool) -> WorkerSettings:
        if mode not in MODES:
            raise ValueError(f"The Python sandbox mode must be one of {', '.join(MODES)}, not {mode!r}.")
        return cls(str(scratch), str(tmp), mode, limits.memory_bytes, limits.processes, limits.file_bytes,
                   limits.output_chars, **layers)

    def message(self) -> dict:
        return asdict(self)


def worker_command(frozen: bool | None = None) -> list[str]:
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    if frozen:
        return [sys.executable, WORKER_FLAG]
    return [sys.executable, "-E", "-P", "-c", _BOOT, str(ROOT)]


def worker_environment(tmp: Path, source: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: locale and PATH from Hearth's, the rest its own."""
    source = os.environ if source is None else source
    env = {key: value for key, value in source.items() if key in _KEPT_VARIABLES or key.startswith("LC_")}
    threads = str(THREADS)
    env.update({
        "HOME": str(tmp), "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp),
        "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
        "HEARTH_SANDBOX": "1",
    })
    return env
