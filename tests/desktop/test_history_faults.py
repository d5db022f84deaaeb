"""The history under faults a person meets: the file locked by another program, a damaged page
(of the message index or of the messages themselves), a file cut off or not a database at all,
and a file or folder that cannot be written. See history_faults.py for how each is injected."""

from __future__ import annotations

import hashlib
import sqlite3
import time

import pytest

from desktop import history as history_module
from desktop.history import ChatDamaged, History, HistoryBusy, HistoryError
from desktop.history_open import open_history
from tests.desktop.history_faults import (
    PAGE,
    damage_page,
    fill,
    locked,
    page_holding,
    root_page,
    text_of,
)
from tests.faults import read_only


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_messages(history: History) -> list[str]:
    return [m.content for c in history.conversations() for m in history.messages(c.id)]


# -- locked by another program -------------------------------------------------------------------
def test_a_locked_file_refuses_a_write_at_once_and_half_a_turn_is_never_saved(tmp_path):
    path = tmp_path / "h.db"
    (cid, *_) = fill(path, chats=1, messages=2)
    history = History(path)
    with locked(path):
        assert len(history.messages(cid)) == 2  # reading goes on while another program writes
        started = time.monotonic()
        with pytest.raises(HistoryBusy, match="Another program is using the chat history file"):
            history.add_message(cid, "user", "Hello")
        assert time.monotonic() - started < 2.0  # once: SQLite's default 5 s, on the GUI thread
        with pytest.raises(HistoryBusy), history.transaction():
            history.create_conversation("Half a turn")
    assert [c.title for c in history.conversations()] == ["Chat 0"]
    history.add_message(cid, "user", "Hello")  # the lock is gone: the same write goes through
    assert history.messages(cid)[-1].content == "Hello"


# -- a damaged page ------------------------------------------------------------------------------
def test_a_damaged_index_page_leaves_every_chat_listed_readable_and_searchable(tmp_path):
    path = tmp_path / "h.db"
    ids = fill(path)
    damage_page(path, root_page(path, "messages_by_conversation"))
    history = History(path)
    assert sorted(c.id for c in history.conversations()) == ids
    with pytest.raises(ChatDamaged) as damage:  # once: sqlite3.DatabaseError
        history.messages(ids[1])
    assert damage.value.complete
    assert [m.content for m in damage.value.readable] == [text_of(1, m) for m in range(4)]
    assert [c.id for c in history.conversations("chat 2 message 3")] == [ids[2]]  # once: it raised
    assert [c.id for c in history.conversations("Chat 1")] == [ids[1]]


def test_a_damaged_message_page_loses_only_the_messages_on_it(tmp_path):
    path = tmp_path / "h.db"
    ids = fill(path)
    damage_page(path, page_holding(path, "<chat 1 message 2>"))
    history = History(path)
    with pytest.raises(ChatDamaged) as damage:
        history.messages(ids[1])
    readable = [m.content for m in damage.value.readable]
    assert not damage.value.complete
    assert text_of(1, 2) not in readable and 0 < len(readable) < 4
    assert set(readable) < {text_of(1, m) for m in range(4)}


@pytest.mark.timeout(60)
def test_a_file_cut_anywhere_is_recovered_in_moments(tmp_path):
    # A page cut mid-way parses as rows of zeros, some with keys out of order; reading around
    # it once looped for ever. Every cut, about half a page apart, must end, and what is
    # recovered of a message is the start of what was written, never bytes that were not.
    source = tmp_path / "whole.sqlite3"
    fill(source, chats=4, messages=10)
    written = [text_of(c, m) for c in range(4) for m in range(10)]
    for cut in range(PAGE, source.stat().st_size, PAGE // 2 + 100):
        path = tmp_path / str(cut) / "history.sqlite3"
        path.parent.mkdir()
        path.write_bytes(source.read_bytes()[:cut])
        history = open_history(path)
        for text in all_messages(history):
            assert any(whole.startswith(text) for whole in written)
        history.close()


# -- a damaged or cut-off file at start ----------------------------------------------------------
def test_a_damaged_file_is_moved_aside_unchanged_and_what_can_be_read_copied_into_a_new_one(tmp_path):
    path = tmp_path / "history.sqlite3"
    ids = fill(path)
    damage_page(path, page_holding(path, "<chat 1 message 2>"))
    damaged = digest(path)
    history = open_history(path)  # once: "database disk image is malformed" ended the app
    (aside,) = tmp_path.glob("history.damaged-*.sqlite3")
    assert digest(aside) == damaged  # kept exactly as it was
    assert history.saves and history.intact()
    assert "The chat history file was damaged" in history.problem and aside.name in history.problem
    assert "some messages could not be read" in history.problem
    assert sorted(c.id for c in history.conversations()) == ids
    texts = all_messages(history)
    assert text_of(0, 0) in texts and text_of(2, 3) in texts and text_of(1, 2) not in texts
    new = history.add_message(ids[0], "user", "After the repair")
    assert new.id > max(m.id for c in ids for m in history.messages(c)[:-1])  # no id reused


def test_a_damaged_index_found_at_start_is_rebuilt_with_every_message(tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(path)
    damage_page(path, root_page(path, "messages_by_conversation"))
    history = open_history(path)
    assert "copied all 3 chats into it" in history.problem
    assert len(all_messages(history)) == 12


def test_a_cut_off_file_is_moved_aside_and_its_first_part_recovered(tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(path, chats=3, messages=8)
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size // 2)
    cut = digest(path)
    history = open_history(path)  # once: an exit with a traceback
    (aside,) = tmp_path.glob("history.damaged-*.sqlite3")
    assert digest(aside) == cut
    assert 0 < len(all_messages(history)) < 24 and text_of(0, 0) in all_messages(history)


def test_a_file_cut_inside_its_last_page_is_seen_as_damaged(tmp_path):
    # SQLite reads a last page cut short as zeros, without an error, and its quick check passes:
    # the message on it once showed zeros for the rest of its text.
    path = tmp_path / "history.sqlite3"
    fill(path, chats=1, messages=8)
    data = path.read_bytes()
    at = max(data.find(text_of(0, m).encode()) for m in range(8))  # the text nearest the end
    assert at // PAGE == len(data) // PAGE - 1 and at + 1500 > len(data) - 100  # it ends the file
    path.write_bytes(data[:at + 200])
    history = open_history(path)
    assert "The chat history file was damaged" in history.problem
    texts = all_messages(history)
    assert text_of(0, 0) in texts
    assert all(any(text_of(0, m).startswith(text) for m in range(8)) for text in texts)  # never zeros


def test_a_file_that_is_not_a_database_is_kept_and_a_new_history_started(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database " * 500)
    history = open_history(path)
    assert "no chat could be read from the old file" in history.problem
    assert history.conversations() == [] and history.saves
    (aside,) = tmp_path.glob("history.damaged-*.sqlite3")
    assert aside.read_bytes().startswith(b"this is not a database")


def test_a_second_damaged_file_never_replaces_the_first_one_kept(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"first damage " * 500)
    open_history(path).close()
    path.write_bytes(b"second damage " * 500)  # within the same second: the same time stamp
    open_history(path).close()
    kept = sorted(p.read_bytes()[:6] for p in tmp_path.glob("history.damaged-*.sqlite3"))
    assert kept == [b"first ", b"second"]


# -- a file or folder that cannot be written -----------------------------------------------------
def test_a_read_only_folder_opens_the_chats_in_memory_and_says_nothing_is_saved(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "history.sqlite3"
    ids = fill(path)
    before = digest(path)
    with read_only(folder):
        history = open_history(path)  # once: "unable to open database file" ended the app
        try:
            assert not history.saves
            assert "Hearth cannot save chats" in history.problem and "read-only" in history.problem
            assert "Your earlier chats (3 chats) are shown." in history.problem
            assert "export it" in history.problem
            assert sorted(c.id for c in history.conversations()) == ids
            history.add_message(ids[0], "user", "Kept until Hearth closes")
            assert history.messages(ids[0])[-1].content == "Kept until Hearth closes"
        finally:
            history.close()  # before the mount goes
    assert digest(path) == before and not list(folder.glob("*.damaged-*"))


def test_a_read_only_file_opens_in_memory(tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(path)
    with read_only(path):
        history = open_history(path)
        try:
            assert not history.saves and "read-only" in history.problem
            assert len(all_messages(history)) == 12
        finally:
            history.close()


def test_a_file_sqlite_may_only_read_opens_in_memory_where_no_mount_is_allowed(tmp_path, monkeypatch):
    # The same fault without a mount: SQLite opens the file read-only (mode=ro), so every write
    # meets SQLITE_READONLY exactly as on a read-only disk. This one runs everywhere.
    path = tmp_path / "history.sqlite3"
    fill(path)
    monkeypatch.setattr(history_module, "_connect", lambda p: sqlite3.connect(
        f"file:{p}?mode=ro", uri=True, isolation_level=None))
    history = open_history(path)
    assert not history.saves and "read-only" in history.problem
    assert len(all_messages(history)) == 12


def test_versions_of_answers_survive_a_damaged_or_read_only_file(tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite3"
    ids = fill(path)
    history = History(path)
    answer = history.messages(ids[0])[1]
    again = history.new_version(answer)
    again.content, again.status = "written again", "complete"
    history.update_message(again)
    history.close()

    def versions(h):
        shown = h.messages(ids[0])[1]
        return shown.content, shown.versions, h.show_version(shown, 1).content

    monkeypatch.setattr(history_module, "_connect", lambda p: sqlite3.connect(
        f"file:{p}?mode=ro", uri=True, isolation_level=None))
    read_only_copy = open_history(path)
    assert not read_only_copy.saves and versions(read_only_copy) == ("written again", 2, text_of(0, 1))
    monkeypatch.undo()
    damage_page(path, page_holding(path, "<chat 1 message 2>"))
    repaired = open_history(path)
    assert "some messages could not be read" in repaired.problem
    assert versions(repaired) == ("written again", 2, text_of(0, 1))


def test_a_file_from_before_schema_versions_opens_read_only_in_memory(tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite3"
    fill(path)
    db = sqlite3.connect(path)
    db.execute("DROP TABLE answer_versions")  # as a file from before versions were kept
    db.execute("PRAGMA user_version = 0")
    db.close()
    monkeypatch.setattr(history_module, "_connect", lambda p: sqlite3.connect(
        f"file:{p}?mode=ro", uri=True, isolation_level=None))
    history = open_history(path)  # cannot be brought up to date, but it is read
    assert not history.saves and "read-only" in history.problem and "(3 chats) are shown." in history.problem
    assert len(all_messages(history)) == 12


def test_a_folder_that_cannot_be_made_opens_an_empty_history_in_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    history = open_history(blocker / "Hearth" / "history.sqlite3")
    assert not history.saves and "cannot be opened" in history.problem
    assert "earlier chats" not in history.problem
    with pytest.raises(HistoryError):
        History(blocker / "Hearth" / "history.sqlite3")
