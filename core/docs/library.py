"""The document library: the folders a person added, their documents' text, and search over it.

One object, cheap to make; each call opens the index for its own work and closes it, so the
window, a chat's browser tool and the terminal can use one library at once (SQLite's WAL mode lets
searches read while another process indexes).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from core.docs import database
from core.docs.errors import LibraryDamaged, NotInLibrary, SearchUnavailable
from core.docs.indexer import IndexSummary, ProgressCallback, Skipped, index_folder
from core.docs.layout import Line, document_lines
from core.docs.paths import INDEX_FILE, default_library_dir
from core.docs.readers import Part
from core.docs.search import Hit, search
from core.errors import DiskFull, FileNotReadable, FolderNotWritable, HearthError
from core.system.policy import NO_POLICY, Policy


@dataclass(frozen=True)
class FolderInfo:
    path: Path
    documents: int  # documents indexed
    unreadable: int  # files skipped because they could not be read
    indexed_at: float | None  # seconds since the epoch of the last indexing that finished
    present: bool  # False when the folder is not there now (a drive not connected)


@dataclass(frozen=True)
class Document:
    path: Path
    url: str
    title: str
    kind: str
    lines: tuple[Line, ...]  # as the browser shows them (core.docs.layout.document_lines)


class Library:
    """`Library(folder=None)`: the index in `folder`, by default `HEARTH_DOCS_DIR` or the user data
    folder's Hearth/documents. Raises SearchUnavailable when this SQLite has no FTS5; `notice` is a
    sentence to show when it lacks the trigram index (Chinese and Japanese are then searched slowly).

    `policy`: where the organisation's `documents_folders` names the folders the library may hold,
    adding another raises PolicyForbids, and documents of folders added before the policy said so
    are neither updated, searched nor opened (they stay in the index, listed, until removed)."""

    def __init__(self, folder: str | Path | None = None, *, policy: Policy = NO_POLICY):
        self.policy = policy
        self.folder = Path(folder).expanduser() if folder is not None else default_library_dir()
        fts5, trigram = database.search_support()
        if not fts5:
            raise SearchUnavailable(database.no_fts5_sentence())
        self.trigram = trigram
        self.notice = "" if trigram else database.no_trigram_sentence()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FolderNotWritable(f"The document library's folder {self.folder} could not be created "
                                    f"({error.strerror or error}).") from error
        self.index_path = self.folder / INDEX_FILE
        with self._connect():
            pass

    # -- folders -------------------------------------------------------------------------------

    def add(self, folder: str | Path, *, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None) -> IndexSummary:
        """Adds `folder` and indexes it; adding it again updates it. A folder inside one already in
        the library updates that one; one holding library folders takes them over. Raises
        PolicyForbids for a folder the organisation's policy keeps out."""
        path = _existing_folder(folder)
        self.policy.check_documents_folder(path)
        with self._connect() as conn:
            known = [Path(row[0]) for row in conn.execute("SELECT path FROM folders")]
            container = next((f for f in known if path != f and path.is_relative_to(f)), None)
            if container is not None:
                summary = index_folder(conn, container, covers=[str(container)], progress=progress, cancel=cancel)
                summary.note = f"{path} is already in the library, inside {container}; that folder was updated."
                return summary
            inside = [f for f in known if f != path and f.is_relative_to(path)]
            with conn:
                conn.execute("INSERT OR IGNORE INTO folders(path, added_at) VALUES (?, strftime('%s','now'))",
                             (str(path),))
                conn.executemany("DELETE FROM folders WHERE path = ?", [(str(f),) for f in inside])
            summary = index_folder(conn, path, covers=[str(path), *map(str, inside)], progress=progress,
                                   cancel=cancel)
            if inside:
                summary.note = f"{path} now includes the library folders inside it: {', '.join(map(str, inside))}."
            return summary

    def update(self, folder: str | Path | None = None, *, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None) -> list[IndexSummary]:
        """Re-indexes one library folder, or all: changed, new and deleted files. A folder that is not
        there now (a drive not connected) keeps its documents as they were, with a sentence saying so."""
        with self._connect() as conn:
            known = [Path(row[0]) for row in conn.execute("SELECT path FROM folders ORDER BY path")]
            targets = known if folder is None else [self._library_folder(folder, known)]
            summaries = []
            for path in targets:
                if not self.policy.allows_documents_folder(path):
                    summary = IndexSummary(path, unchanged=self._count(conn, path))
                    summary.note = (f"{path} was not updated: your organisation's policy keeps it out of the library, "
                                    f"so the model does not read it. Remove it with `hearth docs remove`.")
                    summaries.append(summary)
                    continue
                if not path.is_dir():
                    summary = IndexSummary(path, unchanged=self._count(conn, path))
                    summary.note = (f"{path} is not there now (a drive not connected?); its documents are kept as "
                                    f"they were.")
                    summaries.append(summary)
                    continue
                summaries.append(index_folder(conn, path, covers=[str(path)], progress=progress, cancel=cancel))
            return summaries

    def remove(self, folder: str | Path) -> int:
        """Forgets a library folder and its documents (the files themselves are untouched); returns
        how many documents it held."""
        with self._connect() as conn:
            known = [Path(row[0]) for row in conn.execute("SELECT path FROM folders")]
            path = self._library_folder(folder, known)
            count = self._count(conn, path)
            with conn:
                ids = [(row[0],) for row in conn.execute("SELECT id FROM files WHERE folder = ?", (str(path),))]
                conn.executemany("DELETE FROM chunks WHERE file_id = ?", ids)
                conn.executemany("DELETE FROM parts WHERE file_id = ?", ids)
                conn.execute("DELETE FROM files WHERE folder = ?", (str(path),))
                conn.execute("DELETE FROM folders WHERE path = ?", (str(path),))
            return count

    def folders(self) -> list[FolderInfo]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT folders.path, folders.indexed_at, "
                "  count(files.id) FILTER (WHERE files.problem IS NULL) AS documents, "
                "  count(files.id) FILTER (WHERE files.problem IS NOT NULL) AS unreadable "
                "FROM folders LEFT JOIN files ON files.folder = folders.path "
                "GROUP BY folders.path ORDER BY folders.path").fetchall()
        return [FolderInfo(Path(r["path"]), r["documents"], r["unreadable"],
                           float(r["indexed_at"]) if r["indexed_at"] is not None else None, Path(r["path"]).is_dir())
                for r in rows]

    def problems(self) -> list[Skipped]:
        """Every file of the library that could not be read, with why."""
        with self._connect() as conn:
            return [Skipped(Path(r[0]), r[1]) for r in
                    conn.execute("SELECT path, problem FROM files WHERE problem IS NOT NULL ORDER BY path")]

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The passages that best match `query`, best first, at most `limit`."""
        with self._connect() as conn:
            return search(conn, query, limit, trigram=self.trigram and database.has_trigram_table(conn),
                          folders=self.policy.allows_documents_folder)

    def document(self, path: str | Path) -> Document:
        """A document of the library, laid out as the browser shows it. Raises NotInLibrary for any
        other file: the model reads the person's library, never the rest of the disk."""
        with self._connect() as conn:
            row = None
            for candidate in _spellings(path):
                row = conn.execute("SELECT id, path, folder, title, kind FROM files WHERE path = ? AND problem IS NULL",
                                   (candidate,)).fetchone()
                if row is not None:
                    break
            if row is None:
                raise NotInLibrary(f"{path} is not a document of the library.")
            if not self.policy.allows_documents_folder(row["folder"]):
                raise NotInLibrary(f"{path} is in a folder your organisation's policy keeps out of the library.")
            parts = [Part(r["text"], r["page"], r["section"], r["first_line"]) for r in conn.execute(
                "SELECT page, section, first_line, text FROM parts WHERE file_id = ? ORDER BY seq", (row["id"],))]
        url = Path(row["path"]).as_uri()
        return Document(Path(row["path"]), url, row["title"], row["kind"], tuple(document_lines(url, parts)))

    def is_empty(self) -> bool:
        """Whether no folder the model may read is in the library."""
        with self._connect() as conn:
            folders = [row[0] for row in conn.execute("SELECT path FROM folders")]
        return not any(self.policy.allows_documents_folder(folder) for folder in folders)

    # -- helpers -------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = database.connect(self.index_path, trigram=self.trigram)
        try:
            yield conn
        except sqlite3.OperationalError as error:
            raise _sentence_for(error, self.index_path) from error
        except sqlite3.DatabaseError as error:
            raise LibraryDamaged(f"The document library's index {self.index_path} is damaged ({error}). Delete "
                                 f"that file and add your folders again; your documents are untouched.") from error
        finally:
            conn.close()

    @staticmethod
    def _count(conn: sqlite3.Connection, path: Path) -> int:
        query = "SELECT count(*) FROM files WHERE folder = ? AND problem IS NULL"
        return conn.execute(query, (str(path),)).fetchone()[0]

    @staticmethod
    def _library_folder(folder: str | Path, known: list[Path]) -> Path:
        for candidate in _spellings(folder):
            if Path(candidate) in known:
                return Path(candidate)
        listed = ", ".join(map(str, known)) if known else "none yet"
        raise NotInLibrary(f"{folder} is not one of the library's folders (they are: {listed}).")


def _existing_folder(folder: str | Path) -> Path:
    path = Path(folder).expanduser()
    try:
        if not path.exists():
            raise FileNotReadable(f"{path} could not be added to the library: it does not exist.")
        if not path.is_dir():
            raise FileNotReadable(f"{path} could not be added to the library: it is a file, not a folder. "
                                  f"Add the folder that holds it.")
        return path.resolve()
    except OSError as error:
        raise FileNotReadable(f"{path} could not be added to the library: {error.strerror or error}.") from error


def _spellings(path: str | Path) -> list[str]:
    """The ways a path may have been stored: as given (absolute), and with links resolved."""
    text = str(path)
    if text.startswith("file:"):
        text = url2pathname(urlparse(text).path)
    given = Path(text).expanduser()
    absolute = given.absolute()
    try:
        resolved = absolute.resolve()
    except OSError:
        resolved = absolute
    return list(dict.fromkeys([str(absolute), str(resolved)]))


def _sentence_for(error: sqlite3.OperationalError, index: Path) -> HearthError:
    text = str(error).lower()
    if "full" in text:
        return DiskFull(f"The disk holding the document library ({index.parent}) is full; free some space and "
                        f"index again.")
    if "locked" in text or "busy" in text:
        return HearthError("The document library is busy with other work (another window or terminal indexing); "
                           "try again when it has finished.")
    if "readonly" in text or "read-only" in text:
        return FolderNotWritable(f"The document library's index {index} cannot be written to; check the "
                                 f"permissions of {index.parent}.")
    return LibraryDamaged(f"The document library's index {index} could not be used ({error}).")
