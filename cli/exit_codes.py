"""What every `hearth` command's exit code means, for scripts: one table for all commands, and
`failed(error)`, which says a failure and gives its code."""

import sys

from core.errors import DiskFull, OfflineMode
from core.system.policy import PolicyForbids

OK = 0
FAILED = 1          # the reason is printed
USAGE = 2           # wrong options
REFUSED = 3         # the organisation's policy or offline mode forbids it (a model not allowed, downloads off)
PAUSED = 4          # a download paused; `hearth models resume ID` continues it
VERIFY_FAILED = 5   # `hearth models verify` found missing or damaged files
DISK_FULL = 6       # not enough disk space
TOO_SMALL = 7       # `hearth hardware`: no model fits this machine
STOPPED = 130       # Ctrl-C

TABLE = f"""Exit codes (every command):
  {OK}    done
  {FAILED}    failed (the reason is printed)
  {USAGE}    wrong usage
  {REFUSED}    refused by the organisation's policy or by offline mode
  {PAUSED}    download paused (resume with `hearth models resume ID`)
  {VERIFY_FAILED}    verify found missing or damaged files
  {DISK_FULL}    not enough disk space
  {TOO_SMALL}    no model fits this machine (`hearth hardware`)
  {STOPPED}  stopped with Ctrl-C"""


def failed(error: BaseException) -> int:
    """Prints `error`'s sentence ("hearth: ...") and returns its exit code: REFUSED for the policy
    or offline mode, DISK_FULL for a full disk, FAILED otherwise."""
    print(f"hearth: {error}", file=sys.stderr)
    if isinstance(error, OfflineMode | PolicyForbids):
        return REFUSED
    return DISK_FULL if isinstance(error, DiskFull) else FAILED
