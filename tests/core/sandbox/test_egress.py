"""Zero egress holds through a Python session: in an offline Hearth process (the guard installed,
as every entry point installs it), a session of calls, some of which try to connect out, leaves
the guard's counts at 0: the worker talks to Hearth over pipes, and its own attempts die in the
worker's kernel-enforced sandbox, not in Hearth. Runs in a fresh interpreter (audit hooks cannot
be removed), with a second hook that would catch anything the guard let through."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.core.sandbox.conftest import linux_only

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = textwrap.dedent("""
    import json, socket, sys
    from core.system import egress
    guard = egress.install(offline=True)
    seen = []
    def every_socket_event(event, args):
        if event.startswith("socket."):
            seen.append(event)
    sys.addaudithook(every_socket_event)
    from core.sandbox import PythonTool
    answers = []
    with PythonTool() as tool:
        answers.append(tool.call("import numpy as np\\nvalues = np.linspace(0, 1, 5)"))
        answers.append(tool.call("import urllib.request\\nurllib.request.urlopen('http://192.0.2.1/', timeout=3)"))
        answers.append(tool.call("import socket\\nsocket.create_connection(('127.0.0.1', 9), 3)"))
        answers.append(tool.call("float(values.sum())"))
        isolation = tool.isolation.kind
    print(json.dumps({"answers": answers, "isolation": isolation, "blocked": guard.blocked, "local": guard.local,
                      "outbound": guard.outbound, "approved": guard.approved, "socket_events": seen}))
""")


@linux_only
def test_an_offline_session_of_calls_makes_no_network_attempt(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    answers = result["answers"]
    assert answers[0].startswith("[WARN] No output") and answers[3] == "2.5\n"
    assert "PermissionError" in answers[1] or "Operation not permitted" in answers[1]
    assert answers[2].endswith("PermissionError: [Errno 1] Operation not permitted")
    assert (result["blocked"], result["local"], result["outbound"], result["approved"]) == (0, 0, 0, 0)
    assert result["socket_events"] == []  # Hearth's own process opened no socket at all
