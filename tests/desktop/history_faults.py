"""Faults injected into a chat history file, for the tests of the history and of the window.

- `locked`: another program holds the file, as a second connection in `BEGIN EXCLUSIVE` does.
- `damage_page`: one page overwritten with bytes SQLite cannot parse, found by what it holds
  (`page_holding`) or by the schema (`root_page`), so no test depends on SQLite's page layout.
A read-only file or folder is tests/faults.py's `read_only` (a real read-only mount).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from desktop.history import History

PAGE = 4096  # SQLite's default page size, which the history uses


def fill(path: Path, chats: int = 3, messages: int = 4, size: int = 1500) -> list[int]:
    """A closed history holding `chats` chats of `messages` messages, each about `size` characters
    (a few per page); returns the chat ids. Closing it moves every change into the file itself."""
    history = History(path)
    ids = []
    for c in range(chats):
        cid = history.create_conversation(f"Chat {c}").id
        ids.append(cid)
        for m in range(messages):
            role = "user" if m % 2 == 0 else "assistant"
            history.add_message(cid, role, text_of(c, m, size))
    history.close()
    assert not Path(f"{path}-wal").exists()
    return ids


def text_of(chat: int, message: int, size: int = 1500) -> str:
    mark = f"<chat {chat} message {message}>"
    return mark + "." * (size - len(mark))


@contextlib.contextmanager
def locked(path: Path):
    """Holds the file's write lock from another connection, as another program would."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def page_holding(path: Path, text: str) -> int:
    """The number (from 1) of the page whose bytes hold `text`."""
    at = path.read_bytes().find(text.encode())
    assert at >= 0, f"{text!r} is not in {path}"
    return at // PAGE + 1


def root_page(path: Path, name: str) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    finally:
        db.close()


def damage_page(path: Path, page: int) -> None:
    with open(path, "r+b") as file:
        file.seek((page - 1) * PAGE)
        file.write(b"\xff" * PAGE)


