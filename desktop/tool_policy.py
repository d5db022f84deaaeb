"""What the organisation's policy says about the built-in tools and the document library, as
the window asks it: may this chat search the person's documents, may it run Python, may the
person choose the library's folders.

The policy keys (`builtin_tools`: the built-ins allowed; `documents_folders`: the library's
folders, chosen by the administrator) are read with `getattr`, so a policy without them (a core
from before they existed) allows everything, as a policy file that does not name them does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

TOOL_LABELS = {"browser": "Search my documents", "python": "Run Python"}  # the switches' words


def _lock_reason(policy, key: str) -> str:
    """The policy's own "Locked by ..." sentence for `key`, or "" where it has none for it."""
    try:
        return policy.lock_reason(key) or ""
    except KeyError:  # a policy that does not know the key yet
        return ""


def tool_refusal(policy, tool: str) -> str | None:
    """None when the person may turn `tool` ("browser" or "python") on; else why not, in a sentence."""
    allowed: Iterable[str] | None = getattr(policy, "builtin_tools", None)
    if allowed is None or tool in tuple(allowed):
        return None
    reason = _lock_reason(policy, "builtin_tools")
    said = f"Your organisation does not allow “{TOOL_LABELS.get(tool, tool)}” on this computer."
    return f"{said} {reason}" if reason else said


def documents_folders(policy) -> tuple[Path, ...] | None:
    """The library's folders as the administrator set them, or None when the person chooses."""
    folders = getattr(policy, "documents_folders", None)
    if folders is None:
        return None
    return tuple(Path(folder).expanduser() for folder in folders)


def folders_refusal(policy) -> str | None:
    """None when the person may add and remove the library's folders; else why not."""
    if documents_folders(policy) is None:
        return None
    reason = _lock_reason(policy, "documents_folders")
    said = "Your organisation chooses which folders the model may search."
    return f"{said} {reason}" if reason else said
