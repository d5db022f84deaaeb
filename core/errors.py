"""Typed errors of the core. Each carries a sentence a person understands (`str(error)`);
the GUI and the terminal show that sentence, and may add what to do next.

An error may keep its advice apart (`advice`): `str(error)` is then `what` followed by `advice`,
and a front end with advice of its own (a window's "press Resume") says it instead of the core's,
not after it. An error about a model's files may also carry `fault`: what is wrong with them, in plain words,
as the end of a sentence ("part 2 of 2 of its weights is cut short"), for a front end that words
the rest itself; and `details`: the technical names (files, tensors) that a person does not need
to read but a bug report does. Neither is part of `str(error)`."""

from __future__ import annotations

import errno
import os


class HearthError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str = "", *, advice: str = "", fault: str = "", details: str = ""):
        super().__init__(f"{message} {advice}" if advice else message)
        self.what = message  # what happened
        self.advice = advice  # what to do about it, when not part of `what`
        self.fault = fault
        self.details = details


class ModelNotFound(HearthError):
    """The model folder, or a file it must contain, is missing."""


class CorruptCheckpoint(HearthError):
    """A weights file is damaged, truncated, or holds tensors of the wrong name, shape or type."""


class InvalidConfig(HearthError):
    """config.json is unreadable or describes something this engine cannot run."""


class TokenizerError(HearthError):
    """The tokenizer files are missing or damaged."""


class ContextOverflow(HearthError):
    """A prompt or conversation does not fit the model's context window."""


class InvalidInput(HearthError):
    """A request the engine cannot serve as given (token ids out of range, empty prompt ...)."""


class NotEnoughMemory(HearthError):
    """The model (or its context) does not fit the memory of the chosen device."""


class MemoryTight(NotEnoughMemory):
    """The model fits the computer's memory but not what is free right now: the person may close
    other programs, or load it anyway (`load_anyway`), knowing answers may then be very slow."""


class DownloadFailed(HearthError):
    """A download could not finish; what was already downloaded is kept."""


class OfflineMode(HearthError):
    """Offline mode is on and something tried to reach the network."""


class DiskFull(HearthError):
    """Not enough free disk space for the work asked."""


class FolderNotWritable(HearthError):
    """A folder Hearth must write to is read-only, cannot be created, or is not allowed to it."""


class FileNotReadable(HearthError):
    """A file or folder Hearth must read is not allowed to it, or the system cannot read it."""


class Cancelled(HearthError):
    """The user stopped the work."""


def why_unreadable(error: OSError) -> str:
    """Why reading a file or folder failed, as the end of a sentence ("..., because it ...")."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return "this account is not allowed to read it (check its permissions)"
    if error.errno == errno.ELOOP:
        return "it is a link that leads back to itself"
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return "it does not exist"
    if error.errno == errno.EISDIR:
        return "it is a folder, not a file"
    if error.errno == errno.EIO:
        return "the disk reported a read error"
    return f"the system refused ({os.strerror(error.errno) if error.errno else error})"
