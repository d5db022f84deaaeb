"""The SQLite history: conversations, messages, search, regenerate/edit truncation, and
recovery of answers a dead process left half-written."""

from desktop.history import History


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
