"""What the worker does to itself before it reads any code: the network taken away, limits set,
writes kept in the session folder, `/mnt/data` in place. Returns a report of what holds.

On Linux, in this order (each step needs the one before, or must precede a thread):
    1. a user + network + mount namespace (namespace.py), unless the mode is "seccomp" or the
       system has none ("auto" then falls back; "namespace" fails);
    2. resource limits: address space, processes, file size, no core files;
    3. the seccomp filter (seccomp.py): no socket of any kind, no io_uring, no ptrace;
    4. Landlock (landlock.py), where the kernel has it: writes only in the session folder;
    5. the working directory: /mnt/data when mounted, else the scratch folder with the path
       mapped in Python (mnt_data.py).
On macOS and Windows the launcher (sandbox-exec, a job object) did what the system allows from
outside; the worker sets what limits it can and step 5.

Runs inside the worker, single-threaded; imports only the standard library and its siblings.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from core.sandbox import landlock, mnt_data, namespace, seccomp


class ConfinementFailed(Exception):
    """The isolation asked for cannot be had; the message says why. `retry_with` names a mode a
    fresh worker may try instead (after a half-finished namespace), or is None."""

    def __init__(self, message: str, retry_with: str | None = None):
        super().__init__(message)
        self.retry_with = retry_with


def confine(settings: dict[str, Any]) -> dict[str, Any]:
    """Applies `settings` (see WorkerSettings in launch.py) and returns the report: {"kind":
    "namespace" | "seccomp" | "launcher", "layers": [...], "notes": [...], "mnt_data": "mounted" | "mapped"}."""
    scratch, mode = settings["scratch"], settings["mode"]
    report: dict[str, Any] = {"kind": "launcher", "layers": [], "notes": [], "mnt_data": "mapped"}
    in_namespace = False
    if sys.platform.startswith("linux") and mode in ("auto", "namespace"):
        try:
            mounted = namespace.enter(scratch)
        except namespace.NamespaceUnavailable as why:
            if mode == "namespace":
                raise ConfinementFailed(f"No user namespace: {why}.") from why
            report["notes"].append(f"no user namespace ({why})")
        except namespace.NamespaceBroken as why:
            raise ConfinementFailed(f"{why}.", retry_with="seccomp" if mode == "auto" else None) from why
        else:
            in_namespace = True
            report["kind"] = "namespace"
            report["layers"].append("user and network namespace" + (" (loopback only, down)"
                                                                      if namespace.only_loopback() else ""))
            report["mnt_data"] = "mounted" if mounted else "mapped"
    _set_limits(settings, per_namespace=in_namespace)
    if sys.platform.startswith("linux"):
        _linux_filters(settings, report, in_namespace)
    home = namespace.MNT_DATA if report["mnt_data"] == "mounted" else scratch
    os.chdir(home)
    if report["mnt_data"] == "mapped":
        mnt_data.install(scratch)
    return report


def _linux_filters(settings: dict[str, Any], report: dict[str, Any], in_namespace: bool) -> None:
    if settings.get("seccomp", True):
        try:
            seccomp.install_filter()
        except seccomp.SeccompUnavailable as why:
            if not in_namespace:
                raise ConfinementFailed(f"Neither a user namespace nor a seccomp filter is available: {why}.") from why
            report["notes"].append(f"no seccomp filter ({why})")
        else:
            report["kind"] = report["kind"] if in_namespace else "seccomp"
            report["layers"].append("seccomp filter (no sockets)")
    elif not in_namespace:
        raise ConfinementFailed("The seccomp filter was turned off and there is no user namespace.")
    if settings.get("landlock", True):
        readable = landlock.readable_folders() + ([namespace.MNT] if report["mnt_data"] == "mounted" else [])
        try:
            abi = landlock.restrict([settings["scratch"], settings["tmp"]], readable)
        except landlock.LandlockUnavailable as why:
            report["notes"].append(f"no Landlock ({why}): the code can write outside its folder")
        else:
            report["layers"].append(f"Landlock ABI {abi} (writes only in the session folder"
                                    + (", no TCP)" if abi >= 4 else ")"))


def _set_limits(settings: dict[str, Any], per_namespace: bool) -> None:
    try:
        import resource
    except ImportError:  # Windows: the job object holds the limits
        return
    processes = settings["processes"]
    if not per_namespace:
        # Outside a user namespace RLIMIT_NPROC counts every process of this user (the desktop's
        # too), so the session's allowance comes on top of what the user runs now.
        processes += _processes_of(os.getuid())
    limits = {"RLIMIT_AS": settings["memory_bytes"], "RLIMIT_NPROC": processes,
              "RLIMIT_FSIZE": settings["file_bytes"], "RLIMIT_CORE": 0}
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            # Soft and hard alike: the code may not raise its own limit again.
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # macOS refuses some; the rest still hold
            pass


def _processes_of(uid: int) -> int:
    """Processes and threads this user runs now (Linux /proc; 0 where unknown)."""
    count = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = os.stat(f"/proc/{entry}")
            if stat.st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count
