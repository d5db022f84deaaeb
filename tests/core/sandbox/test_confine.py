"""The order of the layers and the fallbacks, where this machine does not show them by itself:
a system that keeps user namespaces from unprivileged users (Ubuntu 24.04's AppArmor default), a
namespace that breaks half-way, and a worker that cannot be isolated at all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from core.sandbox import platforms
from core.sandbox.launch import ROOT
from core.sandbox.process import popen
from tests.core.sandbox.conftest import linux_only

pytestmark = linux_only
APPARMOR = "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"


def _confine_in_a_fresh_process(tmp_path, mode: str) -> dict:
    """confine() in a throw-away interpreter (it cannot be undone), as if AppArmor said no."""
    script = textwrap.dedent(f"""
        import json, os, socket, sys
        sys.path.insert(0, {str(ROOT)!r})
        from core.sandbox import confine, namespace
        namespace.unavailable_reason = lambda: {APPARMOR!r}
        settings = {{"scratch": {str(tmp_path)!r}, "tmp": {str(tmp_path)!r}, "mode": {mode!r},
                     "memory_bytes": 2**31, "processes": 64, "file_bytes": 2**30, "output_chars": 1000}}
        try:
            report = confine.confine(settings)
        except confine.ConfinementFailed as why:
            report = {{"failed": str(why), "retry_with": why.retry_with}}
        try:
            socket.socket()
            report["socket"] = "made"
        except OSError as error:
            report["socket"] = error.strerror
        print(json.dumps(report))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_auto_falls_back_to_the_filter_and_says_why(tmp_path):
    report = _confine_in_a_fresh_process(tmp_path, "auto")
    assert report["kind"] == "seccomp"
    assert report["notes"][0] == f"no user namespace ({APPARMOR})"
    assert report["mnt_data"] == "mapped" and report["socket"] == "Operation not permitted"


def test_a_namespace_asked_for_and_refused_is_a_failure_not_a_fallback(tmp_path):
    report = _confine_in_a_fresh_process(tmp_path, "namespace")
    assert report["failed"].startswith("No user namespace: AppArmor") and report["retry_with"] is None
    assert report["socket"] == "made"  # nothing was applied; the worker then exits without running code


FAKE_WORKER = ("import sys; sys.path.insert(0, sys.argv[1]); from core.sandbox import framing; "
               "framing.read_message(sys.stdin.buffer); "
               "framing.write_message(sys.stdout.buffer, {'ready': False, 'error': sys.argv[2], 'retry_with': "
               "sys.argv[3] or None})")


def _first_worker_fails(monkeypatch, error: str, retry_with: str):
    """The first worker started answers the handshake with `error`; later ones are real."""
    real_plan, launched = platforms.plan, []

    def plan(*args, **kwargs):
        real = real_plan(*args, **kwargs)

        def launcher(command, env, options):
            if not launched:
                command = [sys.executable, "-c", FAKE_WORKER, str(ROOT), error, retry_with]
            launched.append(command)
            return popen(command, env, options)

        return platforms.Plan(real.command, launcher, real.kind, real.layers, real.tested)

    monkeypatch.setattr(platforms, "plan", plan)
    return launched


def test_a_half_made_namespace_is_retried_with_the_filter(monkeypatch, open_tool):
    launched = _first_worker_fails(monkeypatch, "the new user namespace could not map this user", "seccomp")
    tool = open_tool()
    assert len(launched) == 2 and tool.isolation.kind == "seccomp"
    assert tool.call("6 * 7") == "42\n"


def test_a_worker_that_cannot_be_isolated_runs_no_code(monkeypatch, open_tool):
    _first_worker_fails(monkeypatch, "Neither a user namespace nor a seccomp filter is available.", "")
    from core.sandbox import PythonTool

    tool = PythonTool()
    try:
        assert tool.call("print('ran')") == ("Error: Python is not available on this computer: Neither a user "
                                             "namespace nor a seccomp filter is available. Continue without it.")
    finally:
        tool.close()
