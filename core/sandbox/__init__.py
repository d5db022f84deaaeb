"""The sandbox behind gpt-oss's `python` tool: a stateful notebook per chat, in a worker process
that cannot reach the network, with limits on time, memory, processes and output.

    from core.sandbox import PythonTool, SandboxLimits
    tool = PythonTool(scratch=folder, limits=SandboxLimits(timeout_s=120))
    tool.call("import numpy as np; np.arange(3).sum()")  -> "3\n"
    tool.isolation.summary()                              -> for the Hardware page
    probe().summary()                                     -> the same, without a chat

Parent side (Hearth's process): tool (PythonTool), process (one worker: start, wait, kill),
launch (command line, environment, settings), result (what the model reads), isolation (what
holds), limits, errors. Worker side (stdlib only; run in the worker): worker (main loop), confine
(the order of the layers), namespace, seccomp, landlock, capture (fds 1 and 2), cell (one cell),
mnt_data (the path where it is not mounted). framing is both sides' message format.

Names load on first use, so the worker importing its own modules does not load the parent's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.sandbox.errors import SandboxUnavailable
    from core.sandbox.isolation import Isolation
    from core.sandbox.limits import SandboxLimits
    from core.sandbox.tool import PythonTool, probe

_PUBLIC = {"PythonTool": "core.sandbox.tool", "probe": "core.sandbox.tool", "SandboxLimits": "core.sandbox.limits",
           "Isolation": "core.sandbox.isolation", "SandboxUnavailable": "core.sandbox.errors"}
__all__ = ["Isolation", "PythonTool", "SandboxLimits", "SandboxUnavailable", "probe"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'core.sandbox' has no attribute {name!r}")
