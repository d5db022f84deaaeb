"""The path most people take: Hearth run by an ordinary user. Run here (as root) under the
`nobody` account through setpriv, with a Python that account may run: the namespace is entered
without privileges, the files the code writes belong to the user, and the process limit holds
(root is exempt from RLIMIT_NPROC, so only this test can show it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.core.sandbox.conftest import linux_only

ROOT = Path(__file__).resolve().parents[3]
NOBODY = 65534
SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from core.sandbox import PythonTool, SandboxLimits
    with PythonTool(limits=SandboxLimits(processes=8)) as tool:
        kind = tool.start().kind
        spawned = tool.call("import subprocess\\nchildren = []\\ntry:\\n    for _ in range(20):\\n"
                            "        children.append(subprocess.Popen(['sleep', '30']))\\n"
                            "except OSError as error:\\n    print(error.strerror)\\nlen(children)")
        owner = tool.call("import os\\nopen('/mnt/data/x', 'w').close()\\nos.stat('x').st_uid, os.getuid()")
        network = tool.call("import socket\\nsocket.create_connection(('127.0.0.1', 9), 3)")
    print(json.dumps({"kind": kind, "spawned": spawned, "owner": owner, "network": network}))
""")


def _python_for_nobody() -> str | None:
    """An interpreter (3.11 or later) the nobody account can run, and start again as
    sys.executable (the worker), or None."""
    for candidate in (sys.executable, shutil.which("python3"), shutil.which("python3", path="/usr/local/bin:/usr/bin")):
        if not candidate:
            continue
        try:
            done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", candidate,
                                   "-c", "import subprocess, sys; subprocess.run([sys.executable, '-c', '']); "
                                   "print(sys.version_info >= (3, 11))"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        if done.stdout.strip() == "True":
            return candidate
    return None


@linux_only
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to become nobody")
def test_as_an_ordinary_user(tmp_path):
    python = _python_for_nobody()
    if python is None:
        pytest.skip("no Python here that the nobody account may run")
    tmp_path.chmod(0o777)
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python, "-c", SCRIPT,
                           str(ROOT)], env={"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path)}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kind"] == "namespace"
    lines = result["spawned"].splitlines()
    assert lines[0] == "Resource temporarily unavailable" and int(lines[1]) < 8
    assert result["owner"] == f"({NOBODY}, {NOBODY})\n"
    assert result["network"].endswith("PermissionError: [Errno 1] Operation not permitted")
