"""How each system's worker is started. Linux runs for real in the other tests; the macOS and
Windows paths are written and untested here, so only what can be checked without them is: the
macOS command and profile, and that no unknown system is ever offered Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sandbox import macos, platforms
from core.sandbox.errors import SandboxUnavailable
from core.sandbox.launch import ROOT, WORKER_FLAG, worker_command, worker_environment
from core.sandbox.limits import SandboxLimits


def test_linux_starts_this_python_and_confines_from_inside(tmp_path):
    plan = platforms.plan(SandboxLimits(), tmp_path, tmp_path, platform="linux")
    assert plan.kind is None and plan.tested
    assert plan.command[1:3] == ["-E", "-P"] and plan.command[-1] == str(ROOT)


def test_the_frozen_bundle_starts_itself_as_the_worker():
    command = worker_command(frozen=True)
    assert command[1:] == [WORKER_FLAG]


def test_the_worker_gets_none_of_hearths_environment(tmp_path):
    env = worker_environment(tmp_path, {"PATH": "/usr/bin", "LC_ALL": "C.UTF-8", "HF_TOKEN": "secret",
                                        "HTTPS_PROXY": "http://proxy:3128", "PYTHONPATH": "/x", "HOME": "/home/ann"})
    assert env["PATH"] == "/usr/bin" and env["LC_ALL"] == "C.UTF-8"
    assert {"HF_TOKEN", "HTTPS_PROXY", "PYTHONPATH"}.isdisjoint(env)
    assert env["HOME"] == env["TMPDIR"] == str(tmp_path)


def test_macos_wraps_the_worker_in_a_profile_without_network(monkeypatch, tmp_path):
    monkeypatch.setattr(macos, "available", lambda: True)
    plan = platforms.plan(SandboxLimits(), tmp_path / "data", tmp_path / "tmp", platform="darwin")
    assert plan.kind == "sandbox-exec" and not plan.tested
    assert plan.command[0] == macos.SANDBOX_EXEC
    profile = plan.command[plan.command.index("-p") + 1]
    assert "(deny network*)" in profile and "(deny file-write*)" in profile
    assert str(tmp_path) not in profile  # folders travel as -D parameters, never in the text
    assert f"SCRATCH={Path(tmp_path / 'data').resolve()}" in plan.command
    assert plan.command[plan.command.index("-p") + 2:] == worker_command()


def test_a_mac_without_sandbox_exec_is_not_offered_python(monkeypatch, tmp_path):
    monkeypatch.setattr(macos, "available", lambda: False)
    with pytest.raises(SandboxUnavailable, match="sandbox-exec"):
        platforms.plan(SandboxLimits(), tmp_path, tmp_path, platform="darwin")


def test_an_unknown_system_is_not_offered_python(tmp_path):
    with pytest.raises(SandboxUnavailable, match="sunos5"):
        platforms.plan(SandboxLimits(), tmp_path, tmp_path, platform="sunos5")


def test_the_windows_path_is_importable_here():
    from core.sandbox import windows

    assert windows.LAYERS and windows.CONTAINER_NAME
