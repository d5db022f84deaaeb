"""The SQLite history: conversations, messages, search, edit truncation, the versions of an
answer written again, recovery of answers a dead process left half-written, and files written
before the schema had a version."""

import sqlite3

from desktop.history import History
from desktop.history_schema import SCHEMA, SCHEMA_VERSION


def test_conversations_newest_first_with_search(tmp_path):
    h = History(tmp_path / "h.db")
    a = h.create_conversation("Bread recipes")
    b = h.create_conversation("Tax questions")
    h.add_message(a.id, "user", "How long should dough rise?")
    assert [c.id for c in h.conversations()] == [a.id, b.id]  # a was touched last
    assert [c.id for c in h.conversations("dough")] == [a.id]  # message text matches
    assert [c.id for c in h.conversations("TAX")] == [b.id]  # titles, case-insensitive
    assert h.conversations("100%") == []  # LIKE wildcards are literal


def test_rename_delete_and_instructions(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation("x")
    h.add_message(c.id, "user", "hi")
    h.rename(c.id, "  Renamed ")
    h.set_instructions(c.id, "Be brief")
    got = h.conversation(c.id)
    assert (got.title, got.instructions) == ("Renamed", "Be brief")
    h.delete_conversation(c.id)
    assert h.conversation(c.id) is None and h.messages(c.id) == []


def test_delete_from_removes_the_message_and_everything_after(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    first = h.add_message(c.id, "user", "one")
    answer = h.add_message(c.id, "assistant", "two")
    h.add_message(c.id, "user", "three")
    h.delete_from(answer)
    assert [m.id for m in h.messages(c.id)] == [first.id]


def test_an_answer_left_streaming_is_recovered_as_interrupted(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    m = h.add_message(c.id, "assistant", status="streaming")
    m.content, m.reasoning, m.reasoning_seconds = "partial answ", "thinking", 1.5
    h.update_message(m)
    # No close: the process "dies" here. A new History sees the database as the next start would.
    again = History(tmp_path / "h.db")
    assert again.recovered == 1
    (got,) = again.messages(c.id)
    assert (got.status, got.content, got.reasoning, got.reasoning_seconds) == (
        "interrupted", "partial answ", "thinking", 1.5)


def test_stats_round_trip(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    m = h.add_message(c.id, "assistant")
    m.stats = {"tokens_per_second": 12.5, "error": "x"}
    m.status = "error"
    h.update_message(m)
    assert h.messages(c.id)[0].stats == {"tokens_per_second": 12.5, "error": "x"}


def written(h: History, cid: int, text: str):
    """An answer written to the end as the chat would: created "streaming", then completed."""
    m = h.add_message(cid, "assistant", status="streaming")
    return finish(h, m, text)


def finish(h: History, m, text: str):
    m.content, m.status, m.stats = text, "complete", {"generated_tokens": len(text)}
    h.update_message(m)
    return m


def test_an_answer_written_again_keeps_its_versions_and_shows_the_one_chosen(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    h.add_message(c.id, "user", "q")
    first = written(h, c.id, "first")
    second = finish(h, h.new_version(first, model="m"), "second")
    assert (second.id, second.version, second.versions) == (first.id, 2, 2)
    third = finish(h, h.new_version(second), "third")
    assert [(m.content, m.version, m.versions) for m in h.messages(c.id)][1] == ("third", 3, 3)
    shown = h.show_version(third, 1)
    assert (shown.content, shown.version, shown.versions, shown.stats) == ("first", 1, 3, {"generated_tokens": 5})
    # The one shown is what the chat holds (and continues from), after a restart too.
    h.close()
    again = History(tmp_path / "h.db")
    answer = again.messages(c.id)[1]
    assert (answer.content, answer.version, answer.versions) == ("first", 1, 3)
    assert again.show_version(answer, 3).content == "third"
    assert again.show_version(again.messages(c.id)[1], 2).content == "second"
    # Written again from version 2: the new one is the fourth, and the others stay.
    fourth = finish(again, again.new_version(again.messages(c.id)[1]), "fourth")
    assert (fourth.version, fourth.versions) == (4, 4)
    assert [again.show_version(again.messages(c.id)[1], n).content for n in (1, 2, 3, 4)] == [
        "first", "second", "third", "fourth"]


def test_an_answer_that_failed_before_writing_is_replaced_not_kept(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    failed = h.add_message(c.id, "assistant", status="error")
    again = h.new_version(failed)
    assert (again.version, again.versions) == (1, 1)


def test_editing_an_earlier_message_removes_the_versions_after_it(tmp_path):
    h = History(tmp_path / "h.db")
    c = h.create_conversation()
    question = h.add_message(c.id, "user", "q")
    finish(h, h.new_version(written(h, c.id, "first")), "second")
    h.delete_from(question)
    assert h.messages(c.id) == []
    assert h._rows("SELECT count(*) FROM answer_versions")[0][0] == 0


def test_a_file_from_before_schema_versions_opens_with_its_chats_and_is_brought_up_to_date(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA)  # the tables as they were, with no version and no answer_versions
    old.execute("INSERT INTO conversations (id, title, created, updated) VALUES (1, 'Old chat', 0, 0)")
    old.execute("INSERT INTO messages (conversation_id, role, content, created) VALUES (1, 'user', 'hello', 0)")
    old.execute("INSERT INTO messages (conversation_id, role, content, created) VALUES (1, 'assistant', 'hi', 0)")
    old.commit()
    old.close()
    h = History(path)
    assert h._rows("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    assert [c.title for c in h.conversations()] == ["Old chat"]
    hello, hi = h.messages(1)
    assert (hello.content, hi.content, hi.versions) == ("hello", "hi", 1)
    assert finish(h, h.new_version(hi), "hi again").versions == 2
    h.close()
    assert [(m.content, m.versions) for m in History(path).messages(1)][1] == ("hi again", 2)


def test_each_chat_keeps_its_tools_and_loses_them_with_it(tmp_path):
    h = History(tmp_path / "h.db")
    a, b = h.create_conversation("a"), h.create_conversation("b")
    assert h.tools(a.id) == ()  # a chat that never turned one on
    h.set_tools(a.id, ("browser", "python"))
    h.set_tools(b.id, ("python",))
    h.set_tools(a.id, ("browser",))
    assert (h.tools(a.id), h.tools(b.id)) == (("browser",), ("python",))
    h.delete_conversation(a.id)
    assert h._rows("SELECT conversation_id FROM conversation_tools") == [(b.id,)]
    h._write("UPDATE conversation_tools SET tools = 'not json' WHERE conversation_id = ?", (b.id,))
    assert h.tools(b.id) == ()  # a damaged row reads as none
    h.close()


def test_a_file_of_schema_1_gains_the_tools_table(tmp_path):
    path = tmp_path / "v1.sqlite3"
    h = History(path)
    c = h.create_conversation("kept")
    h._write("DROP TABLE conversation_tools")
    h._write("PRAGMA user_version = 1")
    h.close()
    again = History(path)
    assert again._rows("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 2
    again.set_tools(c.id, ("python",))
    assert again.tools(c.id) == ("python",) and again.conversation(c.id).title == "kept"
    again.close()
