"""Reading a SQLite history file around damaged pages: each damaged page loses its own rows,
not the ones after it. Used by the history to list what can still be read, and at start to
copy what can be read out of a damaged file (desktop/history_open.py)."""

from __future__ import annotations

import contextlib
import sqlite3

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


