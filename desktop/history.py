"""Conversation history in SQLite: conversations, their messages, and crash recovery.

Each message is written as soon as it exists. An answer being generated is saved as
"streaming" and its text is refreshed as it grows; at the next start any row still
"streaming" belongs to a run that died, and becomes "interrupted" with what it had.
All calls come from the GUI thread; the connection is not shared across threads.
"""

from __future__ import annotations

import json
import sqlite3
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
STATUSES = ("complete", "streaming", "interrupted", "stopped", "error")


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
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit: each write is durable
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)
        self.recovered = self._recover()

    def close(self) -> None:
        self._db.close()

    def _recover(self) -> int:
        """Marks answers left "streaming" by a run that died as "interrupted"; returns how many."""
        return self._db.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").rowcount

    # -- conversations ---------------------------------------------------------------------
    def create_conversation(self, title: str = NEW_CHAT_TITLE, instructions: str = "") -> Conversation:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO conversations (title, instructions, created, updated) VALUES (?, ?, ?, ?)",
            (title, instructions, now, now))
        return Conversation(cur.lastrowid, title, instructions, now)

    def conversations(self, search: str = "") -> list[Conversation]:
        """Newest first; `search` matches titles and message text, case-insensitively."""
        if search:
            like = f"%{_escape_like(search)}%"
            rows = self._db.execute(
                "SELECT DISTINCT c.id, c.title, c.instructions, c.updated FROM conversations c "
                "LEFT JOIN messages m ON m.conversation_id = c.id "
                "WHERE c.title LIKE ? ESCAPE '\\' OR m.content LIKE ? ESCAPE '\\' "
                "ORDER BY c.updated DESC, c.id DESC", (like, like))
        else:
            rows = self._db.execute(
                "SELECT id, title, instructions, updated FROM conversations ORDER BY updated DESC, id DESC")
        return [Conversation(*row) for row in rows]

    def conversation(self, conversation_id: int) -> Conversation | None:
        row = self._db.execute("SELECT id, title, instructions, updated FROM conversations WHERE id = ?",
                               (conversation_id,)).fetchone()
        return Conversation(*row) if row else None

    def rename(self, conversation_id: int, title: str) -> None:
        title = title.strip() or "Untitled"
        self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def set_instructions(self, conversation_id: int, instructions: str) -> None:
        self._db.execute("UPDATE conversations SET instructions = ? WHERE id = ?", (instructions, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def _touch(self, conversation_id: int) -> None:
        self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation_id))

    # -- messages --------------------------------------------------------------------------
    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._db.execute(
            "SELECT id, conversation_id, role, content, reasoning, reasoning_seconds, status, model, stats "
            "FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        return [Message(*row[:8], stats=json.loads(row[8] or "{}")) for row in rows]

    def add_message(self, conversation_id: int, role: str, content: str = "", *, status: str = "complete",
                    model: str = "") -> Message:
        cur = self._db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, model, created) VALUES (?, ?, ?, ?, ?, ?)",
            (conversation_id, role, content, status, model, time.time()))
        self._touch(conversation_id)
        return Message(cur.lastrowid, conversation_id, role, content, status=status, model=model)

    def update_message(self, message: Message) -> None:
        """Writes a message's current text, reasoning, status and stats."""
        if message.status not in STATUSES:
            raise ValueError(f"unknown message status {message.status!r}")
        self._db.execute(
            "UPDATE messages SET content = ?, reasoning = ?, reasoning_seconds = ?, status = ?, model = ?, stats = ? "
            "WHERE id = ?",
            (message.content, message.reasoning, message.reasoning_seconds, message.status, message.model,
             json.dumps(message.stats), message.id))
        self._touch(message.conversation_id)

    def delete_from(self, message: Message) -> None:
        """Removes `message` and every later message of its conversation (regenerate, edit and resend)."""
        self._db.execute("DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                         (message.conversation_id, message.id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
