"""A seccomp filter that takes the network away from a process and everything it starts: the
Linux fallback where unprivileged user namespaces are off, and a second wall behind them.

The filter makes these system calls fail with EPERM (the process lives on, and Python raises
PermissionError):

    socket            every family: IPv4/6, raw packets, netlink, and Unix sockets too, since a
                      Unix socket by path reaches the host's daemons (DNS resolvers, Docker, D-Bus)
                      that can go out for it; socketpair (an anonymous pair inside the session,
                      which multiprocessing and asyncio use) stays allowed
    io_uring_*        io_uring can open and connect sockets without the socket system call
    ptrace, process_vm_readv/writev
                      no reaching into another process of the same user (Hearth itself) to
                      borrow its network

A system call from another ABI (32-bit int 0x80 on x86-64, x32) kills the process: the numbers
above would mean something else there. Written as a classic BPF program through ctypes, with
prctl(PR_SET_NO_NEW_PRIVS) first (which lets an unprivileged process install it, and keeps a
set-uid program it runs from shedding it). No libseccomp: the program is 20 instructions, and
this way the bundle needs no native library and a frozen build has nothing more to carry.

Runs inside the worker, before any of the person's code; imports only the standard library.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# linux/audit.h, linux/seccomp.h, linux/filter.h, linux/prctl.h
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYSCALLS = {  # name -> number, per architecture (aarch64 uses the generic table)
    "x86_64": {"socket": 41, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
               "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427},
    "aarch64": {"socket": 198, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
                "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427},
}
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_NR_OFFSET, _ARCH_OFFSET = 0, 4  # struct seccomp_data
PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, SECCOMP_MODE_FILTER = 22, 38, 2


class SeccompUnavailable(Exception):
    """This kernel or architecture cannot take the filter; the message says why."""


Instruction = tuple[int, int, int, int]  # (code, jump if true, jump if false, k): struct sock_filter


def machine() -> str:
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def filter_program(arch: str) -> list[Instruction]:
    """The BPF program for `arch` ("x86_64" or "aarch64")."""
    if arch not in AUDIT_ARCH:
        raise SeccompUnavailable(f"no seccomp filter is written for the {arch} architecture")
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    numbers = sorted(SYSCALLS[arch].values())
    program: list[Instruction] = [
        (_LD_W_ABS, 0, 0, _ARCH_OFFSET),
        (_JEQ_K, 1, 0, AUDIT_ARCH[arch]),
        (_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (_LD_W_ABS, 0, 0, _NR_OFFSET),
    ]
    if arch == "x86_64":
        program += [(_JGE_K, 0, 1, X32_SYSCALL_BIT), (_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS)]
    # One comparison per number; a match jumps over the rest to the final "deny".
    for i, number in enumerate(numbers):
        program.append((_JEQ_K, len(numbers) - i, 0, number))
    program += [(_RET_K, 0, 0, SECCOMP_RET_ALLOW), (_RET_K, 0, 0, deny)]
    return program


def run_filter(program: list[Instruction], arch_value: int, nr: int) -> int:
    """What `program` returns for a system call (a small BPF interpreter, for tests)."""
    data = {_ARCH_OFFSET: arch_value, _NR_OFFSET: nr}
    accumulator, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        if code == _LD_W_ABS:
            accumulator = data[k]
        elif code == _RET_K:
            return k
        elif code in (_JEQ_K, _JGE_K):
            taken = accumulator == k if code == _JEQ_K else accumulator >= k
            pc += jt if taken else jf
        else:
            raise ValueError(f"unknown BPF instruction {code:#x}")
        pc += 1


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_filter() -> None:
    """Installs the filter on this process (and, through fork and exec, on all it starts).
    Raises SeccompUnavailable when the kernel refuses it. Irreversible."""
    program = filter_program(machine())
    raw = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(program), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(NO_NEW_PRIVS) failed: {_errno_text()}")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise SeccompUnavailable(f"the kernel refused the seccomp filter: {_errno_text()}")


def _errno_text() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({code})"
