"""What the organisation's policy says about the built-in tools and the document library, as
the window asks it: may a chat search the person's documents, may it run Python, which folders
may the library hold.

The policy's keys are `builtin_tools` (the built-ins a chat may offer) and `documents_folders`
(the folders the library may hold: those and the folders inside them; none at all when empty).
They are read through the policy's own questions where it has them (`check_builtin`,
`check_documents_folder`), so its sentences are the ones shown; a policy object without them
allows everything, as a policy file that does not name the keys does.
"""

from __future__ import annotations

from pathlib import Path

from core.system.policy import PolicyForbids

TOOL_LABELS = {"browser": "Search my documents", "python": "Run Python"}  # the switches' words


def _lock_reason(policy, key: str) -> str:
    """The policy's own "Locked by ..." sentence for `key`, or "" where it has none for it."""
    try:
        return policy.lock_reason(key) or ""
    except KeyError:  # a policy that does not know the key
        return ""


def _refusal(check, *args) -> str | None:
    try:
        check(*args)
    except PolicyForbids as refusal:
        return str(refusal)
    return None


def tool_refusal(policy, tool: str) -> str | None:
    """None when the person may turn `tool` ("browser" or "python") on; else why not, in a sentence."""
    check = getattr(policy, "check_builtin", None)
    if check is not None:
        return _refusal(check, tool)
    allowed = getattr(policy, "builtin_tools", None)
    if allowed is None or tool in allowed:
        return None
    said = f"Your organisation does not allow “{TOOL_LABELS.get(tool, tool)}” on this computer."
    reason = _lock_reason(policy, "builtin_tools")
    return f"{said} {reason}" if reason else said


def documents_folders(policy) -> tuple[Path, ...] | None:
    """The folders the library may hold (and those inside them), or None when any may."""
    folders = getattr(policy, "documents_folders", None)
    return None if folders is None else tuple(Path(folder).expanduser() for folder in folders)


def folder_refusal(policy, folder: str | Path) -> str | None:
    """None when the library may hold `folder`; else why not, in a sentence."""
    check = getattr(policy, "check_documents_folder", None)
    if check is not None:
        return _refusal(check, Path(folder))
    allowed = documents_folders(policy)
    if allowed is None or any(Path(folder).is_relative_to(f) for f in allowed):
        return None
    said = f"{folder} may not be added to the document library on this computer."
    reason = _lock_reason(policy, "documents_folders")
    return f"{said} {reason}" if reason else said


def adding_refusal(policy) -> str | None:
    """Why no folder at all may be added (the policy allows none), or None."""
    if documents_folders(policy) != ():
        return None
    said = "Your organisation's policy lets no folder into the document library on this computer."
    reason = _lock_reason(policy, "documents_folders")
    return f"{said} {reason}" if reason else said


def folders_hint(policy) -> str:
    """A sentence for the Documents page when the policy limits the folders, else ""."""
    allowed = documents_folders(policy)
    if not allowed:
        return ""
    return f"Your organisation lets the library hold only folders inside {', '.join(map(str, allowed))}."
