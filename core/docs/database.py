"""The library's SQLite file: its tables, and the check that this SQLite can search.

Tables: `folders` (what the person added), `files` (one row per document seen, with the mtime,
size and SHA-256 that tell a changed file, or the sentence why it could not be read), `parts`
(the text as read, from which a document is laid out again on `open`), and `chunks` (line
ranges of the laid-out text) with two FTS5 indexes over them: `chunks_words` (words, ranked by
bm25) and `chunks_trigram` (every three characters, so Chinese and Japanese, written without
spaces, are found too). Triggers keep both indexes in step with `chunks`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.docs.errors import LibraryDamaged, SearchUnavailable

SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders(path TEXT PRIMARY KEY, added_at REAL NOT NULL, indexed_at REAL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,  -- -1: look again next time (the file could not be opened)
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    problem TEXT  -- why it could not be read, the end of a sentence; NULL when it was
);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder);
CREATE TABLE IF NOT EXISTS parts(
    file_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    page INTEGER, section TEXT, first_line INTEGER, text TEXT NOT NULL,
    PRIMARY KEY(file_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL,
    first_line INTEGER NOT NULL, last_line INTEGER NOT NULL,
    page INTEGER, section TEXT, text TEXT NOT NULL, view TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_words
    USING fts5(text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_words_add AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_words(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_words_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_words(chunks_words, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""

_TRIGRAM = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_trigram
    USING fts5(text, content='chunks', content_rowid='id', tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS chunks_trigram_add AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_trigram(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_trigram_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_trigram(chunks_trigram, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""


def search_support() -> tuple[bool, bool]:
    """(FTS5, its trigram tokenizer) in this Python's SQLite, tried on a throwaway database."""
    probe = sqlite3.connect(":memory:")
    try:
        try:
            probe.execute("CREATE VIRTUAL TABLE words USING fts5(text)")
        except sqlite3.OperationalError:
            return False, False
        try:
            probe.execute("CREATE VIRTUAL TABLE grams USING fts5(text, tokenize='trigram')")
        except sqlite3.OperationalError:
            return True, False
        return True, True
    finally:
        probe.close()


def no_fts5_sentence() -> str:
    return (f"The document library needs SQLite's full-text search (FTS5), and the SQLite inside this "
            f"Python (version {sqlite3.sqlite_version}) was built without it, so documents cannot be "
            f"searched. Run Hearth from its installer, or with a Python whose SQLite includes FTS5 (most do).")


def no_trigram_sentence() -> str:
    return (f"This Python's SQLite (version {sqlite3.sqlite_version}, before 3.34) has no trigram index: "
            f"Chinese and Japanese text is still found, but searching it is slow in a large library.")


def connect(path: Path, *, trigram: bool) -> sqlite3.Connection:
    """Opens (creating if need be) the index at `path`. Raises SearchUnavailable without FTS5 and
    LibraryDamaged when the file is not a database this code can use."""
    try:
        conn = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as error:
        raise LibraryDamaged(f"The document library's index {path} could not be opened ({error}).") from error
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")  # the window searches while the terminal indexes
        conn.executescript(_TABLES)
        if trigram:
            conn.executescript(_TRIGRAM)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            conn.commit()
        elif row["value"] != str(SCHEMA_VERSION):
            raise LibraryDamaged(f"The document library's index {path} was made by another version of Hearth. "
                                 f"Delete that file and add your folders again.")
    except sqlite3.OperationalError as error:
        conn.close()
        if "fts5" in str(error):
            raise SearchUnavailable(no_fts5_sentence()) from error
        raise LibraryDamaged(f"The document library's index {path} could not be used ({error}).") from error
    except sqlite3.DatabaseError as error:
        conn.close()
        raise LibraryDamaged(f"The document library's index {path} is damaged ({error}). Delete that file and "
                             f"add your folders again; your documents themselves are untouched.") from error
    except BaseException:
        conn.close()
        raise
    return conn


def has_trigram_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_trigram'").fetchone() is not None
