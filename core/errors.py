"""Typed errors of the core. Each carries a sentence a person understands (`str(error)`);
the GUI and the terminal show that sentence, and may add what to do next."""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error the core raises on purpose."""


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


class DownloadFailed(HearthError):
    """A download could not finish; what was already downloaded is kept."""


class OfflineMode(HearthError):
    """Offline mode is on and something tried to reach the network."""


class DiskFull(HearthError):
    """Not enough free disk space for the work asked."""


class FolderNotWritable(HearthError):
    """A folder Hearth must write to is read-only, cannot be created, or is not allowed to it."""


class Cancelled(HearthError):
    """The user stopped the work."""
