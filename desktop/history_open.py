"""How the app opens the chat history at start; it never fails. A damaged file is moved aside
(never overwritten) and what can be read from it is copied into a new one; a file that cannot
be written is copied into memory, so Hearth runs and says that nothing is saved."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from desktop.history import (
    MESSAGE_COLUMNS,
    RECOVERED_TITLE,
    VERSION_COLUMNS,
    History,
    HistoryBusy,
    HistoryDamaged,
    HistoryError,
    HistoryReadOnly,
)
from desktop.history_damage import readable_rows

SALVAGED_CONVERSATION = ("id, COALESCE(title, 'Recovered chat'), COALESCE(instructions, ''), COALESCE(created, 0), "
                         "COALESCE(updated, 0)")
SALVAGED_MESSAGE = ("id, conversation_id, COALESCE(role, 'user'), COALESCE(content, ''), COALESCE(reasoning, ''), "
                    "reasoning_seconds, COALESCE(status, 'complete'), COALESCE(model, ''), COALESCE(stats, '{}'), "
                    "COALESCE(created, 0)")
SALVAGED_VERSION = ("message_id, number, COALESCE(content, ''), COALESCE(reasoning, ''), reasoning_seconds, "
                    "COALESCE(status, 'complete'), COALESCE(model, ''), COALESCE(stats, '{}'), COALESCE(created, 0)")


def open_history(path: str | Path) -> History:
    """The history the app starts with; it never raises. A damaged file is replaced by a new one
    holding what could be read from it; one that cannot be written is read into memory. The
    result's `problem` says so in sentences (empty when all is well)."""
    path = Path(path)
    if _cut_short(path):
        return _replace_damaged(path)
    try:
        history = History(path)
    except HistoryDamaged:
        return _replace_damaged(path)
    except HistoryError as error:
        return _in_memory(path, _why_unsaved(error, path), path)
    if history.intact():
        return history
    history.close()
    return _replace_damaged(path)


def _cut_short(path: Path) -> bool:
    """Whether the file ends before the last page its header counts. SQLite reads the missing
    bytes as zeros, without an error, and its quick check passes: a message would show zeros
    for the end of its text. (With a -wal file beside it the header may run ahead of the file
    until the next checkpoint, so that case is left to SQLite.)"""
    try:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return False
        with open(path, "rb") as file:
            header = file.read(100)
        size = path.stat().st_size
    except OSError:  # missing (a new history) or unreadable: opening it says which
        return False
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    changes, pages, pages_valid_for = (int.from_bytes(header[i:i + 4], "big") for i in (24, 28, 92))
    return changes == pages_valid_for and pages > 0 and size < pages * page_size


def _replace_damaged(path: Path) -> History:
    aside = None
    try:
        aside = _move_aside(path)
        history = History(path)
    except (OSError, HistoryError) as error:
        why = f"{path} is damaged and cannot be moved aside" if aside is None else _why_unsaved(error, path)
        return _in_memory(path, why, aside or path)
    chats, complete = _copy_readable(aside, history)
    read = (f"copied all {_chats(chats)} into it" if complete and chats else
            f"copied into it the {_chats(chats)} it could read; some messages could not be read" if chats else
            "no chat could be read from the old file")
    history.problem = (f"The chat history file was damaged, so Hearth started a new one and {read}. "
                       f"The damaged file is kept, unchanged, as {aside.name} in {aside.parent}.")
    return history


def _in_memory(path: Path, why: str, source: Path) -> History:
    """A history in memory holding what `source` has: the chats can be read, and this session's
    messages kept until Hearth closes, though nothing can be saved."""
    history = History(path, sqlite3.connect(":memory:", isolation_level=None))
    sentences = [f"Hearth cannot save chats: {why}."]
    if _exists(source):
        chats, complete = _copy_readable(source, history)
        if not chats:
            sentences.append("Your earlier chats could not be read.")
        elif complete:
            sentences.append(f"Your earlier chats ({_chats(chats)}) are shown.")
        else:
            sentences.append(f"Your earlier chats ({_chats(chats)}) are shown, though some messages could not be read.")
    sentences.append("New messages are kept only until Hearth closes; to keep a chat, export it (File > Export chat…).")
    history.problem = " ".join(sentences)
    return history


def _why_unsaved(error: BaseException, path: Path) -> str:
    if isinstance(error, HistoryReadOnly) or getattr(error, "errno", None) in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the history file {path} or its folder is read-only"
    if isinstance(error, HistoryBusy):
        return f"another program is using the history file {path}"
    return f"the history file {path} cannot be opened"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a folder that may not even be looked into
        return False


def _key(value) -> bool:
    return isinstance(value, int) and value > 0


def _unzeroed(row: tuple) -> tuple:
    return tuple(value.rstrip("\0") if isinstance(value, str) else value for value in row)


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    try:
        found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return found is not None
    except sqlite3.DatabaseError:  # the schema itself is damaged: the tables' own reads say what is lost
        return False


def _chats(n: int) -> str:
    return f"{n} chat" if n == 1 else f"{n} chats"


def _move_aside(path: Path) -> Path:
    """Renames the file (and its -wal and -shm) to a name no file has yet, and returns it."""
    stamp, n = time.strftime("%Y%m%d-%H%M%S"), 1
    aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    while any(_exists(Path(f"{aside}{suffix}")) for suffix in ("", "-wal", "-shm")):
        n += 1
        aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
    moved = []
    try:
        # The -wal first: left behind, SQLite would apply the old file's changes to the new one.
        for suffix in ("-wal", "-shm", ""):
            if Path(f"{path}{suffix}").exists():
                os.rename(f"{path}{suffix}", f"{aside}{suffix}")
                moved.append(suffix)
    except OSError:
        for suffix in moved:
            with contextlib.suppress(OSError):
                os.rename(f"{aside}{suffix}", f"{path}{suffix}")
        raise
    return aside


def _copy_readable(source: Path, into: History) -> tuple[int, bool]:
    """Copies every chat and message that can be read from the history file `source` into
    `into`, keeping their ids; returns how many chats `into` then holds and whether everything
    could be read. It reads a copy, so `source` itself is never changed."""
    with tempfile.TemporaryDirectory(prefix="hearth-history-") as scratch:
        copy = Path(scratch) / "copy.sqlite3"
        try:
            shutil.copyfile(source, copy)
            if Path(f"{source}-wal").exists():  # changes not yet written into the file itself
                shutil.copyfile(f"{source}-wal", f"{copy}-wal")
            db = sqlite3.connect(copy, isolation_level=None)
            # Lets SQLite read a file shorter than its header says (one cut off); nothing is written.
            db.execute("PRAGMA writable_schema = ON")
        except (OSError, sqlite3.Error):
            return 0, False
        try:
            chats, chats_whole = readable_rows(db, "conversations", SALVAGED_CONVERSATION)
            messages, messages_whole = readable_rows(db, "messages", SALVAGED_MESSAGE)
            # A file from before answers kept their versions has no such table.
            versions, versions_whole = (readable_rows(db, "answer_versions", SALVAGED_VERSION)
                                        if _has_table(db, "answer_versions") else ([], True))
        finally:
            db.close()
    # A page cut off mid-way still parses, its missing bytes read as zeros: keep rows with real
    # keys, and of a text the part before the zeros.
    sound = ([_unzeroed(row) for row in chats if _key(row[0])],
             [_unzeroed(row) for row in messages if _key(row[0]) and _key(row[1])],
             [_unzeroed(row) for row in versions if _key(row[0]) and _key(row[1])])
    whole = chats_whole and messages_whole and versions_whole and sound == (chats, messages, versions)
    chats, messages, versions = sound
    kept = {row[0] for row in messages}
    try:
        with into.transaction():
            for row in chats:
                into._write("INSERT OR IGNORE INTO conversations (id, title, instructions, created, updated) "
                            "VALUES (?, ?, ?, ?, ?)", row)
            for row in messages:  # a message whose chat was lost gets a chat of its own
                into._write("INSERT OR IGNORE INTO conversations (id, title, created, updated) VALUES (?, ?, ?, ?)",
                            (row[1], RECOVERED_TITLE, row[-1], row[-1]))
                into._write(f"INSERT OR IGNORE INTO messages ({MESSAGE_COLUMNS}, created) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            for row in versions:  # the earlier versions of an answer, where the answer was kept
                if row[0] in kept:
                    into._write(f"INSERT OR IGNORE INTO answer_versions (message_id, number, {VERSION_COLUMNS}, "
                                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            into.recovered += into._recover()
        return into._rows("SELECT count(*) FROM conversations")[0][0], whole
    except HistoryError:  # the new file cannot take them (a full disk): the old file still has them
        return 0, False
