"""`hearth --self-test` from the source tree, in a fresh process (the egress guard it installs
belongs to the whole process and cannot be removed, so it must not run inside pytest's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, tmp_path: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_self_test_passes_and_saves_a_screenshot(tmp_path):
    shot = tmp_path / "window.png"
    result = run_python(f"import sys; from cli.main import main; sys.exit(main(['--self-test', '--screenshot', "
                        f"{str(shot)!r}]))", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ok   imports", "ok   cpu kernels", "ok   model", "ok   documents", "ok   python tool", "ok   window",
        "ok   triton", "ok   network"]
    assert "PDF, Word and HTML indexed and each fact found" in result.stdout
    assert "Processor path: compiled" in result.stdout
    assert "6 generated" in result.stdout
    assert lines[-1].startswith("self-test passed in ")
    assert shot.stat().st_size > 10_000  # a real picture of the window, not an empty file


@pytest.mark.parametrize(("reach", "reported"), [
    # A connection: the guard refuses the name lookup before anything leaves the process
    # (192.0.2.1 is TEST-NET-1, never routed).
    ("socket.create_connection(('192.0.2.1', 443), timeout=1)",
     ["FAIL network: 1 blocked connection attempts", "blocked getaddrinfo to 192.0.2.1 from <string>"]),
    # An Internet socket opened and never used still shows intent, and fails the test too.
    ("socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()",
     ["FAIL network: 0 blocked connection attempts [], 1 Internet sockets created"]),
])
def test_self_test_fails_when_anything_reaches_for_the_network(tmp_path, reach, reported):
    # A module that phones home while the self-test runs must make the self-test fail.
    code = f"""
import socket, sys
import cli.selftest as selftest
real = selftest.check_imports
def phoning_home():
    try:
        {reach}
    except OSError:
        pass
    return real()
selftest.check_imports = phoning_home
from cli.main import main
sys.exit(main(["self-test"]))
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    for words in reported:
        assert words in result.stdout


def test_self_test_reports_the_step_that_broke(tmp_path):
    code = """
import sys
import cli.selftest as selftest
def broken(tmp):
    raise RuntimeError("no vocabulary")
selftest.check_generation = broken
from cli.main import main
sys.exit(main(["self-test"]))
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 1
    assert "FAIL model: RuntimeError: no vocabulary" in result.stdout
    assert "ok   window" not in result.stdout  # it stops at the first broken step
