"""Landlock: the worker may write only in its session folder, read only the system's and
Python's own folders, and (kernels with Landlock ABI 4 or later) open no TCP connection.

Keeps the code away from what would let it reach the network later, outside the sandbox: Hearth's
settings (offline mode), the person's shell start-up files and autostart folders; and, when
`hearth serve` lets other people's requests run code, away from the server's own files (the
person's home is not readable). Added on top of the namespace or the seccomp filter where the
kernel has Landlock (Linux 5.13 or later, when the LSM is on); where it has not, the report says
so and the rest still holds.

Runs inside the worker; imports only the standard library.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

# linux/landlock.h; the system call numbers are the same on x86-64 and aarch64.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION, _RULE_PATH_BENEATH = 1, 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_WRITE_DIR = sum(1 << bit for bit in range(4, 13))  # remove, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE
_CONNECT_AND_BIND_TCP = 0b11  # ABI 4: handled_access_net
READ = EXECUTE | READ_FILE | READ_DIR
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt", "/nix")


class LandlockUnavailable(Exception):
    """The kernel has no Landlock (or refused the rules); nothing was changed."""


def abi_version(libc=None) -> int:
    """The kernel's Landlock ABI version; 0 where there is none."""
    libc = libc or ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def readable_folders() -> list[str]:
    """Folders the code may read (and run programs from): the system's, and this Python's."""
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    python |= {entry for entry in sys.path if entry}
    return sorted(path for path in {*SYSTEM_FOLDERS, *python} if os.path.exists(path))


def restrict(writable: list[str], readable: list[str]) -> int:
    """Confines this process (and all it starts) to reading `readable` and /dev, and reading and
    writing `writable`. Returns the ABI version used. Raises LandlockUnavailable. Irreversible."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = abi_version(libc)
    if abi < 1:
        raise LandlockUnavailable("this kernel has no Landlock")
    handled = READ | WRITE_FILE | _WRITE_DIR | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("=QQ", handled, _CONNECT_AND_BIND_TCP) if abi >= 4 else struct.pack("=Q", handled)
    ruleset = libc.syscall(_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise LandlockUnavailable(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        rules = [(path, READ) for path in readable] + [("/dev", READ | WRITE_FILE)]
        rules += [(path, handled) for path in writable]
        for path, access in rules:
            _add_rule(libc, ruleset, path, access)
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise LandlockUnavailable(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return abi


def _add_rule(libc, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder that is not there needs no rule
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS  # a rule on a file may only name file rights
        rule = struct.pack("=Qi", access, fd)  # struct landlock_path_beneath_attr (packed)
        if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, ctypes.c_uint32(0)) != 0:
            raise LandlockUnavailable(f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
