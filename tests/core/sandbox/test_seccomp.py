"""The seccomp program, run through a small BPF interpreter: every blocked call gets EPERM on both
architectures, everything else is allowed, and another ABI is killed."""

from __future__ import annotations

import errno

import pytest

from core.sandbox.seccomp import (
    AUDIT_ARCH,
    SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS,
    SYSCALLS,
    X32_SYSCALL_BIT,
    SeccompUnavailable,
    filter_program,
    run_filter,
)

DENY = SECCOMP_RET_ERRNO | errno.EPERM
AUDIT_ARCH_I386 = 0x40000003


@pytest.mark.parametrize("arch", sorted(AUDIT_ARCH))
def test_blocked_calls_fail_with_eperm_and_the_rest_pass(arch):
    program = filter_program(arch)
    blocked = set(SYSCALLS[arch].values())
    for nr in range(0, 460):
        expected = DENY if nr in blocked else SECCOMP_RET_ALLOW
        assert run_filter(program, AUDIT_ARCH[arch], nr) == expected, nr
    assert len(program) < 30  # fits the kernel's limit with room: it is a list, not a tree


@pytest.mark.parametrize("arch", sorted(AUDIT_ARCH))
def test_socket_pair_stays_allowed(arch):
    socketpair = {"x86_64": 53, "aarch64": 199}[arch]
    assert run_filter(filter_program(arch), AUDIT_ARCH[arch], socketpair) == SECCOMP_RET_ALLOW


def test_another_abi_is_killed():
    program = filter_program("x86_64")
    assert run_filter(program, AUDIT_ARCH_I386, 102) == SECCOMP_RET_KILL_PROCESS  # i386 socketcall
    assert run_filter(program, AUDIT_ARCH["x86_64"], X32_SYSCALL_BIT | 41) == SECCOMP_RET_KILL_PROCESS


def test_an_unknown_architecture_says_so():
    with pytest.raises(SeccompUnavailable, match="riscv64"):
        filter_program("riscv64")
