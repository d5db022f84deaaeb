"""The chat history file's layout: its tables, how a file written by an older Hearth is brought
up to date, and how the versions of an answer are numbered.

The schema version is SQLite's `user_version`, 0 for files from before it was kept. Opening
runs the `MIGRATIONS` a file lacks, each in one transaction that also sets its new number, so a
file is never left half-migrated. Each step only adds tables: an older Hearth still reads a newer
file, and a file from a newer Hearth is used as it is.

An answer's `stats` column is a JSON object whose keys grow without a migration: `tools` (its
built-in tool calls, desktop/tool_steps.py) and `citations` (where its citations point,
desktop/kept_citations.py) came that way. An older Hearth ignores a key it does not know, and
the stats are written back whole, so nothing a newer Hearth kept there is lost.

An answer written again (regenerate) keeps its earlier versions. They are numbered 1, 2, 3 … in
the order they were written; the `messages` row holds the one shown (the one the conversation
continues from) and `answer_versions` the others, so the shown version's number is the first
one `answer_versions` lacks. Showing another version swaps it with the row.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    -- AUTOINCREMENT: an id is never reused after an edit deletes the last rows, so a
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
# MIGRATIONS[n - 1] takes a file from schema version n - 1 to n; statements run one by one (an
# executescript would commit half-way).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the earlier versions of an answer written again
    ("""CREATE TABLE IF NOT EXISTS answer_versions (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        reasoning TEXT NOT NULL DEFAULT '',
        reasoning_seconds REAL,
        status TEXT NOT NULL DEFAULT 'complete',
        model TEXT NOT NULL DEFAULT '',
        stats TEXT NOT NULL DEFAULT '{}',
        created REAL NOT NULL,
        PRIMARY KEY (message_id, number)
    )""",),
    # 2: the built-in tools a chat has turned on ("browser", "python"), as a JSON list
    ("""CREATE TABLE IF NOT EXISTS conversation_tools (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        tools TEXT NOT NULL DEFAULT '[]'
    )""",),
)
SCHEMA_VERSION = len(MIGRATIONS)


def shown_number(stored: list[int]) -> int:
    """The number of the version held in the messages row: the first one `stored` lacks."""
    shown = 1
    for number in sorted(stored):
        if number != shown:
            break
        shown += 1
    return shown


def all_numbers(stored: list[int]) -> list[int]:
    """Every version's number, the shown one included, in the order they were written."""
    return sorted([*stored, shown_number(stored)])
