"""How the terminal tests start `hearth` processes."""

from __future__ import annotations

import signal


def as_from_a_terminal() -> None:
    """Ctrl-C (SIGINT) as a terminal delivers it. bash ignores SIGINT in the jobs it starts in
    the background, a test run started that way hands the ignore down to every child, and a
    Python started with SIGINT ignored installs no KeyboardInterrupt handler: the Ctrl-C tests
    then wait in vain. Run in the child before `hearth` starts (subprocess's preexec_fn)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
