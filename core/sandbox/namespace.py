"""A new user, network and mount namespace for the worker: a network with only a loopback device,
down (so no address, not even 127.0.0.1, is reachable), and `/mnt/data` mounted where the model
expects it, from the session's scratch folder.

The worker enters it itself, first thing, while it is still one thread (unshare(CLONE_NEWUSER)
refuses a threaded process): no preexec_fn in Hearth's threaded process, no `unshare` program to
find, and the same path in a frozen bundle. Its user and group stay the same numbers inside
(mapped to themselves), so the files it writes belong to the person.

Where unprivileged user namespaces are off, `unavailable_reason()` says so before anything is
tried: Debian's `kernel.unprivileged_userns_clone = 0`, `user.max_user_namespaces = 0`, and
Ubuntu's AppArmor restriction (`kernel.apparmor_restrict_unprivileged_userns = 1`, the 24.04
default), under which unshare succeeds but the new namespace has no rights (the id maps cannot
be written). A failure after unshare succeeded leaves the process half-moved: it raises
`NamespaceBroken`, and the worker exits so a fresh one can use the seccomp fallback.

Runs inside the worker; imports only the standard library.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
MNT, MNT_DATA = "/mnt", "/mnt/data"
_SYSCTLS = (  # file, value that means "off", why
    ("/proc/sys/kernel/unprivileged_userns_clone", "0", "unprivileged user namespaces are turned off "
                                                        "(kernel.unprivileged_userns_clone = 0)"),
    ("/proc/sys/user/max_user_namespaces", "0", "user namespaces are turned off (user.max_user_namespaces = 0)"),
    ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
     "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"),
)


class NamespaceUnavailable(Exception):
    """No namespace was entered; the process is as it was, and may use the fallback."""


class NamespaceBroken(Exception):
    """unshare succeeded but the namespace could not be finished; this process must not run code."""


def unavailable_reason(root: Path = Path("/"), euid: int | None = None) -> str | None:
    """Why this system will not give an unprivileged process a user namespace, or None when it
    may. Root always may (AppArmor's restriction and the Debian switch exempt it)."""
    if (os.geteuid() if euid is None else euid) == 0:
        return None
    for path, off, why in _SYSCTLS:
        try:
            value = (root / path.lstrip("/")).read_text().strip()
        except OSError:
            continue
        if value == off:
            return why
    return None


def enter(scratch: str) -> bool:
    """Moves this process into its own user, network and mount namespace and mounts `scratch` at
    /mnt/data. Returns whether /mnt/data could be mounted (False: the caller maps the path
    itself). Raises NamespaceUnavailable or NamespaceBroken."""
    reason = unavailable_reason()
    if reason:
        raise NamespaceUnavailable(reason)
    uid, gid = os.getuid(), os.getgid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
        raise NamespaceUnavailable(f"unshare failed: {os.strerror(ctypes.get_errno())}")
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as error:
        raise NamespaceBroken(f"the new user namespace could not map this user: {error}") from error
    return _mount_data(libc, scratch)


def _mount_data(libc, scratch: str) -> bool:
    """/mnt becomes a private tmpfs holding only `data`, the scratch folder (bind-mounted). The
    mounts live in this namespace only; the host's /mnt is untouched."""
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    steps = (
        (None, b"/", None, MS_REC | MS_PRIVATE, None),
        (b"tmpfs", MNT.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755"),
    )
    for source, target, fstype, flags, options in steps:
        if libc.mount(source, target, fstype, flags, options) != 0:
            return False
    try:
        os.mkdir(MNT_DATA)
    except OSError:
        return False
    return libc.mount(os.fsencode(scratch), MNT_DATA.encode(), None, MS_BIND | MS_REC, None) == 0


def only_loopback() -> bool:
    """Whether this process's network has no device but loopback, and no route (for the report)."""
    try:
        devices = [line.split(":", 1)[0].strip() for line in Path("/proc/self/net/dev").read_text().splitlines()[2:]]
        routes = Path("/proc/self/net/route").read_text().splitlines()[1:]
    except OSError:
        return False
    return devices == ["lo"] and not routes


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)
