"""The compiled kernels' thread pool (kernels/cpu/pool.c): its workers run each job at the
priority of the thread that gave it, so the window's lower-priority inference thread does not
get its work done by threads that outrank the window's own (tests/desktop/test_end_to_end.py
checks the window's responsiveness while it answers)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.kernels.cpu_fixtures import kernels_or_skip

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import os, threading, torch
    from kernels import _cpu
    kernels = _cpu.load("{isa}")
    kernels.set_threads(2)
    x, w = torch.randn(1, 64), torch.randn(256, 64).bfloat16()
    kernels.linear(x, w)  # the workers exist now, started from this (nice 0) thread

    def lowered():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
        kernels.linear(x, w)

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()
    own = threading.get_native_id()
    for task in os.listdir("/proc/self/task"):
        if int(task) != own:
            print(task, os.getpriority(os.PRIO_PROCESS, int(task)))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_pool_workers_take_on_the_priority_of_the_thread_that_gives_the_job():
    kernels_or_skip("avx2")
    done = subprocess.run([sys.executable, "-c", PROBE.format(isa="avx2")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    nice = [int(line.split()[1]) for line in done.stdout.splitlines()]
    assert 5 in nice, f"no pool worker ran at the caller's nice value: {nice}"
