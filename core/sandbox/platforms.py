"""Which way this system isolates a worker, and how that worker is started:

    Linux     the worker confines itself (confine.py): namespace or seccomp, and Landlock
    macOS     sandbox-exec around the worker (macos.py)                       untested here
    Windows   an AppContainer inside a job object (windows.py)                untested here
    other     no way known: Python is not offered
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from core.sandbox.errors import SandboxUnavailable
from core.sandbox.launch import WorkerSettings, worker_command, worker_environment
from core.sandbox.limits import SandboxLimits
from core.sandbox.process import Launcher, WorkerProcess, popen


@dataclass(frozen=True)
class Plan:
    command: list[str]
    launcher: Launcher
    kind: str | None  # the Isolation kind, when the launcher (not the worker) provides it
    layers: tuple[str, ...] = ()
    tested: bool = True


def plan(limits: SandboxLimits, scratch: Path, tmp: Path, platform: str = sys.platform) -> Plan:
    command = worker_command()
    if platform.startswith("linux"):
        return Plan(command, popen, None)
    if platform == "darwin":
        from core.sandbox import macos

        if not macos.available():
            raise SandboxUnavailable("This Mac has no sandbox-exec, so Python cannot be kept off the network.")
        return Plan(macos.wrap(command, scratch, tmp), popen, "sandbox-exec", macos.LAYERS, tested=False)
    if platform == "win32":
        from core.sandbox import windows

        try:
            launcher = windows.launcher(limits, scratch, tmp)
        except OSError as error:
            raise SandboxUnavailable(f"Windows could not make the sandbox for Python: {error}.") from error
        return Plan(command, launcher, "appcontainer", windows.LAYERS, tested=False)
    raise SandboxUnavailable(f"Hearth knows no way to keep Python off the network on {platform}.")


def start(plan_: Plan, settings: WorkerSettings, tmp: Path) -> WorkerProcess:
    return WorkerProcess(plan_.command, worker_environment(tmp), settings, launcher=plan_.launcher)
