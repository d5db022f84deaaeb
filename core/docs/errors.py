"""The document library's typed errors; each `str(error)` is a sentence for a person."""

from __future__ import annotations

from core.errors import HearthError


class SearchUnavailable(HearthError):
    """This Python's SQLite was built without full-text search (FTS5), which the library needs."""


class NotInLibrary(HearthError):
    """A folder or document that is not part of the document library."""


class LibraryDamaged(HearthError):
    """The library's index file cannot be read or written as a database."""


class Unreadable(Exception):
    """Raised by a reader: this file cannot be read. `reason` ends a sentence that begins with the
    file's name ("report.pdf could not be read: " + reason); the indexer skips the file with it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
