"""Conversation history in SQLite: conversations, their messages, crash recovery, and what
happens when the file is busy, damaged or read-only.

Each message is written as soon as it exists. An answer being generated is saved as
"streaming" and its text is refreshed as it grows; at the next start any row still
"streaming" belongs to a run that died, and becomes "interrupted" with what it had.
All calls come from the GUI thread; the connection is not shared across threads.

An answer written again (regenerate) keeps its earlier versions, one of which is shown and
continued from. The tables, how an older file is brought up to date and how versions are
numbered are desktop/history_schema.py.

Every failure is raised as a `HistoryError` whose text is a sentence. A write waits at most
`BUSY_TIMEOUT_S` for another program's lock, so the window never freezes for seconds.
How the app opens it at start (a damaged file moved aside, a read-only one read into memory)
is desktop/history_open.py; reading around damaged pages, desktop/history_damage.py.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.history_damage import readable_rows
from desktop.history_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION, all_numbers, shown_number

# complete: finished normally; streaming: being written right now; interrupted: the app died
# mid-answer; stopped: the person pressed Stop; error: generation failed (content says why).
NEW_CHAT_TITLE = "New chat"  # until its first message names it
RECOVERED_TITLE = "Recovered chat"  # messages read from a damaged file whose chat was lost
STATUSES = ("complete", "streaming", "interrupted", "stopped", "error")
BUSY_TIMEOUT_S = 0.25  # the longest a write waits for another program's lock (GUI thread)
START_BUSY_TIMEOUT_S = 3.0  # opening may wait longer: the window is not shown yet
MESSAGE_COLUMNS = "id, conversation_id, role, content, reasoning, reasoning_seconds, status, model, stats"
VERSION_COLUMNS = "content, reasoning, reasoning_seconds, status, model, stats"  # an answer's, in both tables
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
    version: int = 1  # of an answer written more than once: which of its `versions` this is (from 1)
    versions: int = 1


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
                self._migrate()
                self.recovered = self._recover()
                self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except HistoryError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        """Brings an older file's schema up to SCHEMA_VERSION; a newer file is left as it is."""
        version = self._rows("PRAGMA user_version")[0][0]
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in MIGRATIONS[number - 1]:
                    self._write(statement)
                self._write(f"PRAGMA user_version = {number}")

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

    def tools(self, conversation_id: int) -> tuple[str, ...]:
        """The built-in tools the chat has turned on ("browser", "python"); none for a chat that
        never turned one on, or whose row cannot be read."""
        try:
            rows = self._rows("SELECT tools FROM conversation_tools WHERE conversation_id = ?", (conversation_id,))
            tools = json.loads(rows[0][0]) if rows else []
        except (HistoryDamaged, TypeError, ValueError):
            return ()
        return tuple(t for t in tools if isinstance(t, str)) if isinstance(tools, list) else ()

    def set_tools(self, conversation_id: int, tools: tuple[str, ...]) -> None:
        self._write("INSERT INTO conversation_tools (conversation_id, tools) VALUES (?, ?) "
                    "ON CONFLICT(conversation_id) DO UPDATE SET tools = excluded.tools",
                    (conversation_id, json.dumps(list(tools))))

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
            raise ChatDamaged(self._with_versions([_message(row) for row in rows]), complete) from damage
        return self._with_versions([_message(row) for row in rows])

    def _with_versions(self, messages: list[Message]) -> list[Message]:
        """Sets `version` and `versions` on the answers written more than once. Where the stored
        versions cannot be read, an answer shows as its only version."""
        if not messages:
            return messages
        stored: dict[int, list[int]] = {}
        try:  # by the primary key, over the ids of this chat's messages
            for message_id, number in self._rows("SELECT message_id, number FROM answer_versions "
                                                 "WHERE message_id BETWEEN ? AND ?",
                                                 (min(m.id for m in messages), max(m.id for m in messages))):
                stored.setdefault(message_id, []).append(number)
        except HistoryError:
            return messages
        for m in messages:
            if m.id in stored:
                numbers = all_numbers(stored[m.id])
                m.version, m.versions = numbers.index(shown_number(stored[m.id])) + 1, len(numbers)
        return messages

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

    # -- versions of an answer -------------------------------------------------------------
    def new_version(self, answer: Message, model: str = "") -> Message:
        """Keeps `answer` (as it is now, saved or not) among its versions and empties its row for
        the version about to be written; returns that new version, "streaming". An answer that
        failed before the model wrote anything is not worth keeping: it is replaced."""
        with self.transaction():
            stored = self._version_numbers(answer.id)
            if answer.content or answer.reasoning:
                self._keep_version(answer, shown_number(stored))
                stored.append(shown_number(stored))
            self._write("UPDATE messages SET content = '', reasoning = '', reasoning_seconds = NULL, "
                        "status = 'streaming', model = ?, stats = '{}' WHERE id = ?", (model, answer.id))
            self._touch(answer.conversation_id)
        numbers = all_numbers(stored)
        return Message(answer.id, answer.conversation_id, answer.role, "", status="streaming", model=model,
                       version=numbers.index(shown_number(stored)) + 1, versions=len(numbers))

    def show_version(self, answer: Message, version: int) -> Message:
        """Makes `version` (from 1) of `answer` the one shown and continued from; `answer` as
        it is now goes back among the others. Returns the answer as shown now."""
        with self.transaction():
            stored = self._version_numbers(answer.id)
            shown, numbers = shown_number(stored), all_numbers(stored)
            if not 1 <= version <= len(numbers) or numbers[version - 1] == shown:
                return answer
            wanted = numbers[version - 1]
            row = self._rows(f"SELECT {VERSION_COLUMNS} FROM answer_versions WHERE message_id = ? AND number = ?",
                             (answer.id, wanted))[0]
            self._write("DELETE FROM answer_versions WHERE message_id = ? AND number = ?", (answer.id, wanted))
            self._keep_version(answer, shown)
            self._write("UPDATE messages SET content = ?, reasoning = ?, reasoning_seconds = ?, status = ?, "
                        "model = ?, stats = ? WHERE id = ?", (*row, answer.id))
        return _message((answer.id, answer.conversation_id, answer.role, *row), version, len(numbers))

    def _version_numbers(self, message_id: int) -> list[int]:
        return [row[0] for row in self._rows("SELECT number FROM answer_versions WHERE message_id = ? ORDER BY number",
                                             (message_id,))]

    def _keep_version(self, answer: Message, number: int) -> None:
        self._write(f"INSERT INTO answer_versions (message_id, number, {VERSION_COLUMNS}, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (answer.id, number, answer.content, answer.reasoning, answer.reasoning_seconds, answer.status,
                     answer.model, json.dumps(answer.stats), time.time()))

    def delete_from(self, message: Message) -> None:
        """Removes `message` and every later message of its conversation, with their versions
        (edit and resend)."""
        self._write("DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (message.conversation_id, message.id))


def _message(row: tuple, version: int = 1, versions: int = 1) -> Message:
    try:
        stats = json.loads(row[8] or "{}")
    except (TypeError, ValueError):  # a damaged row
        stats = {}
    return Message(*row[:8], stats=stats if isinstance(stats, dict) else {}, version=version, versions=versions)


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
