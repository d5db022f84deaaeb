"""Conversation history in SQLite: conversations, their messages, crash recovery, and what
happens when the file is busy, damaged or read-only.

Each message is written as soon as it exists. An answer being generated is saved as
"streaming" and its text is refreshed as it grows; at the next start any row still
"streaming" belongs to a run that died, and becomes "interrupted" with what it had.
All calls come from the GUI thread; the connection is not shared across threads.

Every failure is raised as a `HistoryError` whose text is a sentence. A write waits at most
`BUSY_TIMEOUT_S` for another program's lock, so the window never freezes for seconds.
`open_history` is how the app starts: a damaged file is moved aside (never overwritten) and
what can be read from it is copied into a new one; a file that cannot be written is copied
into memory, so Hearth runs and says that nothing is saved.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    -- AUTOINCREMENT: an id is never reused after regenerate deletes the last row, so a
    -- transcript view can never be mistaken for a newer message.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    reasoning_seconds REAL,
    status TEXT NOT NULL DEFAULT 'complete',
    model TEXT NOT NULL DEFAULT '',
    stats TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

# complete: finished normally; streaming: being written right now; interrupted: the app died
# mid-answer; stopped: the person pressed Stop; error: generation failed (content says why).
NEW_CHAT_TITLE = "New chat"  # until its first message names it
RECOVERED_TITLE = "Recovered chat"  # messages read from a damaged file whose chat was lost
STATUSES = ("complete", "streaming", "interrupted", "stopped", "error")
BUSY_TIMEOUT_S = 0.25  # the longest a write waits for another program's lock (GUI thread)
START_BUSY_TIMEOUT_S = 3.0  # opening may wait longer: the window is not shown yet
MESSAGE_COLUMNS = "id, conversation_id, role, content, reasoning, reasoning_seconds, status, model, stats"
CONVERSATION_COLUMNS = "id, title, instructions, updated"


class HistoryError(Exception):
    """The history file could not be read or written; the text says so in a sentence."""

    sentence = "The chat history file could not be read or written."

    def __init__(self, sentence: str = ""):
        super().__init__(sentence or self.sentence)


class HistoryBusy(HistoryError):
    sentence = "Another program is using the chat history file right now."


class HistoryReadOnly(HistoryError):
    sentence = "The chat history file cannot be written: it or its folder is read-only."


class HistoryDamaged(HistoryError):
    sentence = "The chat history file is damaged."


class ChatDamaged(HistoryDamaged):
    """A chat lies in a damaged part of the file: `readable` holds the messages that could still
    be read, and `complete` says whether nothing was in the way."""

    sentence = "This chat is stored in a damaged part of the chat history file."

    def __init__(self, readable: list[Message], complete: bool):
        super().__init__()
        self.readable, self.complete = readable, complete


@dataclass
class Message:
    id: int
    conversation_id: int
    role: str  # "user" or "assistant"
    content: str
    reasoning: str = ""
    reasoning_seconds: float | None = None
    status: str = "complete"
    model: str = ""
    stats: dict = field(default_factory=dict)


@dataclass
class Conversation:
    id: int
    title: str
    instructions: str
    updated: float


class History:
    def __init__(self, path: str | Path, db: sqlite3.Connection | None = None):
        """The history at `path`, created if missing. With `db` (an in-memory copy) nothing is
        written to `path`: `saves` is then False."""
        self.path = Path(path)
        self.saves = db is None
        self.problem = ""  # set by open_history: what happened to the file, for the window
        self._db = db if db is not None else _connect(self.path)
        try:
            with _sqlite_errors(self.path):
                self._db.execute("PRAGMA foreign_keys = ON")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.executescript(SCHEMA)
                self.recovered = self._recover()
                self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except HistoryError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def _recover(self) -> int:
        """Marks answers left "streaming" by a run that died as "interrupted"; returns how many."""
        try:
            return self._write("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").rowcount
        except HistoryDamaged:  # a damaged message page: open_history's check finds it and repairs it
            return 0

    def intact(self) -> bool:
        """Whether SQLite's quick check finds every page whole (it reads them all: ~30 ms for 30 MB)."""
        try:
            return self._db.execute("PRAGMA quick_check(1)").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            return False

    @contextlib.contextmanager
    def transaction(self):
        """Writes inside are saved all together or not at all (a message with its new chat)."""
        if self._db.in_transaction:
            yield
            return
        self._write("BEGIN IMMEDIATE")  # takes the write lock now, or fails now
        try:
            yield
            self._write("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with _sqlite_errors(self.path):
            return self._db.execute(sql, params)

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with _sqlite_errors(self.path):
            return self._db.execute(sql, params).fetchall()

    def _readable(self, table: str, columns: str, where: str = "1", params: tuple = ()) -> tuple[list[tuple], bool]:
        with _sqlite_errors(self.path):
            return readable_rows(self._db, table, columns, where, params)

    # -- conversations ---------------------------------------------------------------------
    def create_conversation(self, title: str = NEW_CHAT_TITLE, instructions: str = "") -> Conversation:
        now = time.time()
        cur = self._write("INSERT INTO conversations (title, instructions, created, updated) VALUES (?, ?, ?, ?)",
                          (title, instructions, now, now))
        return Conversation(cur.lastrowid, title, instructions, now)

    def conversations(self, search: str = "") -> list[Conversation]:
        """Newest first; `search` matches titles and message text, case-insensitively. Over a
        damaged page, what can be read is listed."""
        like = f"%{_escape_like(search)}%"
        # The message text is matched by a scan of the messages table, not through the index.
        where = ("title LIKE ? ESCAPE '\\' OR id IN (SELECT conversation_id FROM messages "
                 "WHERE content LIKE ? ESCAPE '\\')") if search else "1"
        params = (like, like) if search else ()
        try:
            rows = self._rows(f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {where} "
                              "ORDER BY updated DESC, id DESC", params)
        except HistoryDamaged:
            rows = self._readable_conversations(search)
        return [Conversation(*row) for row in rows]

    def _readable_conversations(self, search: str) -> list[tuple]:
        like = f"%{_escape_like(search)}%"
        rows, _ = self._readable("conversations", CONVERSATION_COLUMNS)
        if search:
            found, _ = self._readable("conversations", "id", "title LIKE ? ESCAPE '\\'", (like,))
            said, _ = self._readable("messages", "conversation_id", "content LIKE ? ESCAPE '\\'", (like,))
            wanted = {row[0] for row in found + said}
            rows = [row for row in rows if row[0] in wanted]
        return sorted(rows, key=lambda r: (r[3], r[0]), reverse=True)

    def conversation(self, conversation_id: int) -> Conversation | None:
        rows = self._rows(f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,))
        return Conversation(*rows[0]) if rows else None

    def rename(self, conversation_id: int, title: str) -> None:
        title = title.strip() or "Untitled"
        self._write("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def set_instructions(self, conversation_id: int, instructions: str) -> None:
        self._write("UPDATE conversations SET instructions = ? WHERE id = ?", (instructions, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        self._write("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def _touch(self, conversation_id: int) -> None:
        self._write("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation_id))

    # -- messages --------------------------------------------------------------------------
    def messages(self, conversation_id: int) -> list[Message]:
        """The chat's messages, oldest first; raises ChatDamaged (holding what is readable) when
        they lie in a damaged part of the file."""
        try:
            rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
                              (conversation_id,))
        except HistoryDamaged as damage:
            rows, complete = self._readable("messages", MESSAGE_COLUMNS, "conversation_id = ?", (conversation_id,))
            raise ChatDamaged([_message(row) for row in rows], complete) from damage
        return [_message(row) for row in rows]

    def add_message(self, conversation_id: int, role: str, content: str = "", *, status: str = "complete",
                    model: str = "") -> Message:
        with self.transaction():
            cur = self._write(
                "INSERT INTO messages (conversation_id, role, content, status, model, created) "
                "VALUES (?, ?, ?, ?, ?, ?)", (conversation_id, role, content, status, model, time.time()))
            self._touch(conversation_id)
        return Message(cur.lastrowid, conversation_id, role, content, status=status, model=model)

    def update_message(self, message: Message) -> None:
        """Writes a message's current text, reasoning, status and stats."""
        if message.status not in STATUSES:
            raise ValueError(f"unknown message status {message.status!r}")
        with self.transaction():
            self._write(
                "UPDATE messages SET content = ?, reasoning = ?, reasoning_seconds = ?, status = ?, model = ?, "
                "stats = ? WHERE id = ?",
                (message.content, message.reasoning, message.reasoning_seconds, message.status, message.model,
                 json.dumps(message.stats), message.id))
            self._touch(message.conversation_id)

    def delete_from(self, message: Message) -> None:
        """Removes `message` and every later message of its conversation (regenerate, edit and resend)."""
        self._write("DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (message.conversation_id, message.id))


def _message(row: tuple) -> Message:
    try:
        stats = json.loads(row[8] or "{}")
    except (TypeError, ValueError):  # a damaged row
        stats = {}
    return Message(*row[:8], stats=stats if isinstance(stats, dict) else {})


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- failures as sentences -------------------------------------------------------------------
@contextlib.contextmanager
def _sqlite_errors(path: Path):
    """SQLite's failures, as the HistoryError that says what they mean for the person. Mistakes
    in Hearth itself (a broken constraint, a closed connection) stay what they are."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.NotSupportedError):
        raise
    except sqlite3.DatabaseError as error:
        raise _history_error(error, path) from error


def _history_error(error: sqlite3.DatabaseError, path: Path) -> HistoryError:
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return HistoryBusy()
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return HistoryDamaged()
    if code == sqlite3.SQLITE_READONLY or not os.access(path.parent, os.W_OK):
        return HistoryReadOnly()
    if code == sqlite3.SQLITE_FULL:
        return HistoryError("The chat history could not be saved: the disk is full.")
    return HistoryError()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise (HistoryReadOnly() if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
               else HistoryError()) from error
    with _sqlite_errors(path):
        # autocommit: each write is durable at once; transaction() groups the ones that belong together
        return sqlite3.connect(path, timeout=START_BUSY_TIMEOUT_S, isolation_level=None)


# -- reading around damage -------------------------------------------------------------------
MAX_ROWID = 2**63 - 1


def readable_rows(db: sqlite3.Connection, table: str, columns: str, where: str = "1",
                  params: tuple = ()) -> tuple[list[tuple], bool]:
    """The rows of `table` matching `where` that can still be read, in rowid order, and whether
    nothing was in the way. One scan when the table is whole; otherwise row by row, stepping
    over damaged pages, so a damaged page loses its own rows and not the ones after it."""
    try:
        return db.execute(f"SELECT {columns} FROM {table} NOT INDEXED WHERE {where} ORDER BY rowid",
                          params).fetchall(), True
    except sqlite3.DatabaseError:
        pass
    rows, last = [], 0
    while (key := _next_key(db, table, last)) is not None:
        with contextlib.suppress(sqlite3.DatabaseError):  # this row's own text may be damaged
            row = db.execute(f"SELECT {columns} FROM {table} WHERE rowid = ? AND ({where})", (key, *params)).fetchone()
            if row is not None:
                rows.append(row)
        last = key
    return rows, False


def _next_key(db: sqlite3.Connection, table: str, after: int) -> int | None:
    """The rowid of the first row after `after` that can be reached, or None when there is none."""
    def first_after(rowid: int) -> int | None:  # raises on a damaged page
        row = db.execute(f"SELECT rowid FROM {table} NOT INDEXED WHERE rowid > ? ORDER BY rowid LIMIT 1",
                         (rowid,)).fetchone()
        if row is not None and not (isinstance(row[0], int) and row[0] > rowid):
            raise sqlite3.DatabaseError("a damaged page returned a key out of order")  # would loop forever
        return row[0] if row else None

    try:
        return first_after(after)
    except sqlite3.DatabaseError:
        pass
    # The page after `after` is damaged: gallop past it, then narrow down to where reading works.
    bad, step = after, 1
    while True:
        if bad + step > MAX_ROWID:
            return None
        try:
            key, good = first_after(bad + step), bad + step
            break
        except sqlite3.DatabaseError:
            bad, step = bad + step, step * 2
    while good - bad > 1:
        middle = (bad + good) // 2
        try:
            key, good = first_after(middle), middle
        except sqlite3.DatabaseError:
            bad = middle
    return key


# -- opening at start ------------------------------------------------------------------------
SALVAGED_CONVERSATION = ("id, COALESCE(title, 'Recovered chat'), COALESCE(instructions, ''), COALESCE(created, 0), "
                         "COALESCE(updated, 0)")
SALVAGED_MESSAGE = ("id, conversation_id, COALESCE(role, 'user'), COALESCE(content, ''), COALESCE(reasoning, ''), "
                    "reasoning_seconds, COALESCE(status, 'complete'), COALESCE(model, ''), COALESCE(stats, '{}'), "
                    "COALESCE(created, 0)")


def open_history(path: str | Path) -> History:
    """The history the app starts with; it never raises. A damaged file is replaced by a new one
    holding what could be read from it; one that cannot be written is read into memory. The
    result's `problem` says so in sentences (empty when all is well)."""
    path = Path(path)
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
        finally:
            db.close()
    # A page cut off mid-way still parses, its missing bytes read as zeros: keep rows with real
    # keys, and of a text the part before the zeros.
    sound = ([_unzeroed(row) for row in chats if _key(row[0])],
             [_unzeroed(row) for row in messages if _key(row[0]) and _key(row[1])])
    whole = chats_whole and messages_whole and sound == (chats, messages)
    chats, messages = sound
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
            into.recovered += into._recover()
        return into._rows("SELECT count(*) FROM conversations")[0][0], whole
    except HistoryError:  # the new file cannot take them (a full disk): the old file still has them
        return 0, False
