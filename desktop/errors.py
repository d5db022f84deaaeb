"""Turns any failure into what the window shows: a sentence saying what happened, and one
saying what to do next. The core's typed errors already carry the first; the second depends
on the kind of error, so it lives here, beside the only code that shows it. Technical names
(files, tensors, exception classes) go to `Problem.details`, which the banner shows only when
asked ("Details"), never into the sentence."""

from __future__ import annotations

import errno
from dataclasses import dataclass

from core import errors
from core.system.policy import PolicyForbids
from desktop import history

NEXT_STEP: dict[type, str] = {
    # The chat history's, most specific first.
    history.HistoryBusy: "Close any other program that may have it open, such as a second Hearth.",
    history.HistoryReadOnly: "Make its folder writable; meanwhile, export the chats you want to keep "
                             "(File > Export chat…).",
    history.HistoryDamaged: "Restart Hearth: it keeps the damaged file and copies everything it can read "
                            "into a new one.",
    history.HistoryError: "Check that the disk is not full and is still connected.",
    errors.NotEnoughMemory: "Choose a smaller model in Models, or close other programs and try again.",
    errors.CorruptCheckpoint: "Open Models, delete this model and download or import it again.",
    errors.ModelNotFound: "Open Models to download the model or import it from a folder.",
    errors.InvalidConfig: "This folder does not hold a gpt-oss model Hearth can run; import another one.",
    errors.TokenizerError: "Reinstalling Hearth, or importing the model again, should fix this.",
    errors.ContextOverflow: "Start a new chat (Ctrl+N), or shorten your message.",
    errors.DownloadFailed: "Check the internet connection, then press Resume.",
    errors.OfflineMode: "Turn offline mode off in Settings to download, or import the model from a folder.",
    errors.DiskFull: "Free some disk space, or choose another models folder in Settings.",
    errors.InvalidInput: "Change what you asked for and try again.",
}


# The window's words in place of the core's own advice (worded for any front end), where the
# window has better ones. A step in lower case goes on the same sentence, after a colon.
INSTEAD_OF_ADVICE: dict[type, str] = {
    errors.OfflineMode: "turn it off in Settings, or import the model from a folder.",
    errors.DownloadFailed: "what was downloaded is kept, and Resume carries on from there.",
    errors.DiskFull: "Free some disk space, or choose another models folder in Settings.",
}


@dataclass(frozen=True)
class Problem:
    what: str  # what happened
    next_step: str = ""  # what the person can do about it
    cancelled: bool = False  # the person stopped it: not an error to show
    details: str = ""  # for a bug report: file and tensor names, the exception; not part of `text()`

    def text(self) -> str:
        if self.next_step[:1].islower():  # one sentence: "Offline mode is on, so …: turn it off in Settings …"
            return f"{self.what.rstrip('.')}: {self.next_step}"
        return f"{self.what} {self.next_step}".strip()


def explain(error: BaseException) -> Problem:
    if isinstance(error, errors.Cancelled):
        return Problem(str(error) or "Stopped.", cancelled=True)
    details = getattr(error, "details", "")
    if isinstance(error, errors.HearthError) and error.advice:
        # The core's sentence and its advice apart: the window's advice replaces it, never repeats it.
        instead = next((step for kind, step in INSTEAD_OF_ADVICE.items() if isinstance(error, kind)), None)
        return Problem(error.what, instead or error.advice, details=details)
    for kind, step in NEXT_STEP.items():
        if isinstance(error, kind):
            return Problem(str(error), step, details=details)
    if isinstance(error, (errors.HearthError, history.HistoryError)):
        return Problem(str(error), details=details)
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return Problem("The computer ran out of memory.",
                       "Close other programs, choose a smaller model, or start a new chat.")
    if isinstance(error, OSError):
        return Problem(f"The computer refused a file operation: {error.strerror or error}.",
                       "Check that the folder exists and that you may write to it.", details=str(error))
    return Problem("Something went wrong inside Hearth.",
                   "Your conversations are saved. Try again; if it keeps happening, restart Hearth.",
                   details=f"{type(error).__name__}: {error}")


# Errors saying a folder does not hold a whole, undamaged model.
MODEL_FILE_ERRORS = (errors.ModelNotFound, errors.CorruptCheckpoint, errors.InvalidConfig, errors.TokenizerError)
CHOOSE_ANOTHER_FOLDER = "Choose the folder that holds the model's files, or download the model instead."


def import_problem(error: BaseException) -> Problem:
    """A folder chosen for import that does not hold a whole model. The person is on the Models
    page and nothing was imported, so the advice is to choose another folder, not (as for an
    installed model) to open Models and delete it."""
    if not isinstance(error, MODEL_FILE_ERRORS):
        return explain(error)
    if error.fault:
        return Problem(f"This folder does not hold a complete model: {error.fault}.", CHOOSE_ANOTHER_FOLDER,
                       details=error.details)
    return Problem(str(error), CHOOSE_ANOTHER_FOLDER, details=error.details)


def history_problem(failed: str, error: BaseException, kept: str = "") -> str:
    """One banner text for a history operation that failed: what did not happen, why, what was
    kept, and what to do next."""
    problem = explain(error)
    return " ".join(part for part in (failed, problem.what, kept, problem.next_step) if part)


def damaged_chat(damage: history.ChatDamaged) -> str:
    """What to say when an opened chat lies in a damaged part of the history file."""
    n = len(damage.readable)
    if damage.complete:
        read = "Hearth could still read all of it, but saving to it may fail until the file is repaired."
    elif n:
        read = f"Hearth shows the {n} message{'s' if n != 1 else ''} it could read; others could not be read."
    else:
        read = "Hearth could not read any of its messages."
    return f"{damage} {read} {NEXT_STEP[history.HistoryDamaged]}"


# "Address already in use" on Linux, macOS and Windows (WSAEADDRINUSE).
_ADDRESS_IN_USE = {errno.EADDRINUSE, 48, 10048}


def api_problem(error: BaseException, host: str, port: int) -> str:
    """Why the local API did not start, and what to do about it."""
    if isinstance(error, PolicyForbids):
        return str(error)
    if isinstance(error, OSError) and error.errno in _ADDRESS_IN_USE:
        return (f"The local API could not start: port {port} is already used by another program. "
                "Choose another port in Settings (Local API port), then turn the API on again.")
    if isinstance(error, OSError):
        return (f"The local API could not start on {host}:{port}: {error.strerror or error}. "
                "Choose another port in Settings (Local API port), then turn the API on again.")
    return f"The local API could not start. {explain(error).text()}"
