"""Indexing one library folder: find its documents, read those that are new or changed, forget
those that are gone, and say what happened in sentences.

A file is unchanged when its mtime and size are those recorded; when either differs, its SHA-256
decides (a file touched but not edited is not read again). Each file is written in its own
transaction, so stopping halfway keeps everything indexed so far, and a search running meanwhile
sees each document whole or not at all. A file that cannot be read is recorded with the reason,
and skipped until it changes; one that could not even be opened is tried again every time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.docs.errors import Unreadable
from core.docs.layout import chunks, document_lines
from core.docs.readers import KIND_NAMES, Part, kind_of, reader_for
from core.errors import Cancelled, why_unreadable

MAX_FILE_BYTES = 256 * 1024 * 1024  # past this a "document" is an export or a log, not reading matter


@dataclass(frozen=True)
class IndexProgress:
    phase: str  # "scanning", "reading", "done"
    done: int  # documents looked at so far
    total: int  # documents found (0 while scanning)
    file: str | None = None  # the one being read, relative to its folder
    message: str = ""  # a sentence for the person: a file skipped

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.phase == "done" else 0.0)


ProgressCallback = Callable[[IndexProgress], None]


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str  # the end of a sentence

    def sentence(self) -> str:
        return f"{self.path} was skipped: {self.reason}."


@dataclass
class IndexSummary:
    folder: Path
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    other_files: int = 0  # files of kinds the library does not read
    note: str = ""  # a sentence about the folder itself (it was inside another, or absorbed others)

    @property
    def documents(self) -> int:
        return self.added + self.changed + self.unchanged

    def sentences(self) -> list[str]:
        said = [self.note] if self.note else []
        counts = ", ".join(f"{n} {word}" for n, word in ((self.added, "new"), (self.changed, "changed"),
                                                          (self.removed, "removed"), (self.unchanged, "unchanged"))
                           if n)
        said.append(f"{self.folder}: {_count(self.documents, 'document')} in the library"
                    + (f" ({counts})." if counts else "."))
        said.extend(s.sentence() for s in self.skipped)
        if self.other_files:
            said.append(f"{_count(self.other_files, 'other file')} in it "
                        f"{'is not a kind' if self.other_files == 1 else 'are not kinds'} the library reads "
                        f"(it reads PDF, Word .docx, HTML, Markdown and text files).")
        return said


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def index_folder(conn: sqlite3.Connection, folder: Path, *, covers: list[str],
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> IndexSummary:
    """Brings the index of `folder` up to date. `covers`: the folder keys whose files this walk
    now owns (the folder itself, and any library folders inside it that it absorbs)."""
    report = progress or (lambda p: None)
    report(IndexProgress("scanning", 0, 0))
    summary = IndexSummary(folder)
    found = _scan(folder, summary)
    marks = ",".join("?" * len(covers))
    known = {row["path"]: row for row in conn.execute(
        f"SELECT id, path, mtime_ns, size, sha256, problem FROM files WHERE folder IN ({marks})", covers)}
    for i, path in enumerate(found):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"Indexing {folder} was stopped after {i} of {len(found)} documents; those are kept, "
                            f"and updating the folder finishes the work.")
        report(IndexProgress("reading", i, len(found), str(path.relative_to(folder))))
        outcome = _index_file(conn, path, str(folder), known.get(str(path)))
        if isinstance(outcome, Skipped):
            summary.skipped.append(outcome)
            report(IndexProgress("reading", i, len(found), str(path.relative_to(folder)), outcome.sentence()))
        else:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    seen = {str(p) for p in found}
    gone = [row["id"] for path, row in known.items() if path not in seen]
    with conn:
        for file_id in gone:
            _forget(conn, file_id)
        conn.execute(f"UPDATE files SET folder = ? WHERE folder IN ({marks})", (str(folder), *covers))
        conn.execute("UPDATE folders SET indexed_at = strftime('%s','now') WHERE path = ?", (str(folder),))
    summary.removed = len(gone)
    report(IndexProgress("done", len(found), len(found)))
    return summary


def _scan(folder: Path, summary: IndexSummary) -> list[Path]:
    found = []

    def unreadable_folder(error: OSError) -> None:
        summary.skipped.append(Skipped(Path(error.filename or folder), why_unreadable(error)))

    for here, dirs, names in os.walk(folder, onerror=unreadable_folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith((".", "~$")):  # hidden files; Office's lock files
                continue
            path = Path(here, name)
            if kind_of(path) is None:
                summary.other_files += 1
            else:
                found.append(path)
    return found


def _index_file(conn: sqlite3.Connection, path: Path, folder: str, row: sqlite3.Row | None) -> str | Skipped:
    kind = kind_of(path) or "text"
    try:
        stat = path.stat()
        if row is not None and (row["mtime_ns"], row["size"]) == (stat.st_mtime_ns, stat.st_size):
            return Skipped(path, row["problem"]) if row["problem"] else "unchanged"
        if stat.st_size > MAX_FILE_BYTES:
            return _record_problem(conn, path, folder, kind, row, stat, "", "it is larger than 256 MiB, more than "
                                   "the library reads")
        digest = _sha256(path)
    except OSError as error:
        return _record_problem(conn, path, folder, kind, row, None, "", why_unreadable(error))
    if row is not None and row["sha256"] == digest and not row["problem"]:
        with conn:
            conn.execute("UPDATE files SET mtime_ns = ?, size = ?, folder = ? WHERE id = ?",
                         (stat.st_mtime_ns, stat.st_size, folder, row["id"]))
        return "unchanged"
    try:
        read = reader_for(kind)(path)
    except Unreadable as error:
        return _record_problem(conn, path, folder, kind, row, stat, digest, error.reason)
    except OSError as error:
        return _record_problem(conn, path, folder, kind, row, None, "", why_unreadable(error))
    except Exception:  # a format library's own error on a damaged file: skip it, never stop the indexing
        return _record_problem(conn, path, folder, kind, row, stat, digest,
                               f"it is damaged or not a real {KIND_NAMES[kind]} file")
    if not any(part.text.strip() for part in read.parts):
        return _record_problem(conn, path, folder, kind, row, stat, digest, "it has no text")
    title = read.title or path.name
    with conn:
        file_id = _upsert(conn, row, (str(path), folder, kind, title, stat.st_mtime_ns, stat.st_size, digest, None))
        _write_text(conn, file_id, path, read.parts)
    return "added" if row is None else "changed"


def _record_problem(conn, path: Path, folder: str, kind: str, row, stat, digest: str, reason: str) -> Skipped:
    # Without a stat the file could not even be opened: mtime -1 makes the next run look again.
    mtime, size = (stat.st_mtime_ns, stat.st_size) if stat is not None else (-1, -1)
    with conn:
        _upsert(conn, row, (str(path), folder, kind, path.name, mtime, size, digest, reason))
    return Skipped(path, reason)


def _upsert(conn: sqlite3.Connection, row, values: tuple) -> int:
    if row is not None:
        _forget_text(conn, row["id"])
        conn.execute("UPDATE files SET path = ?, folder = ?, kind = ?, title = ?, mtime_ns = ?, size = ?, "
                     "sha256 = ?, problem = ? WHERE id = ?", (*values, row["id"]))
        return row["id"]
    return conn.execute("INSERT INTO files(path, folder, kind, title, mtime_ns, size, sha256, problem) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values).lastrowid


def _write_text(conn: sqlite3.Connection, file_id: int, path: Path, parts: tuple[Part, ...]) -> None:
    conn.executemany("INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                     [(file_id, seq, p.page, p.section, p.first_line, p.text) for seq, p in enumerate(parts)])
    conn.executemany(
        "INSERT INTO chunks(file_id, first_line, last_line, page, section, text, view) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(file_id, c.first, c.last, c.origin.page, c.origin.section, c.text, c.view)
         for c in chunks(document_lines(path.as_uri(), parts))])


def _forget_text(conn: sqlite3.Connection, file_id: int) -> None:
    conn.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
    conn.execute("DELETE FROM parts WHERE file_id = ?", (file_id,))


def _forget(conn: sqlite3.Connection, file_id: int) -> None:
    _forget_text(conn, file_id)
    conn.execute("DELETE FROM files WHERE id = ?", (file_id,))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
