"""An answer's citations kept with it in the history: resolved by the chat's browser when the
answer is saved, read back by a fresh history (Hearth started again) to the same file and line,
answers from before they were kept still opening (as plain text), and what a newer Hearth adds
left as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.chat.browser_tool import Citation
from desktop.history import History
from desktop.history_schema import SCHEMA, SCHEMA_VERSION
from desktop.kept_citations import (
    KEY,
    citation_from_dict,
    citation_to_dict,
    kept_citations,
    kept_resolver,
    with_citations,
)
from desktop.widgets.message_view import MessageView

NOTES = Citation(1, 3, 4, Path("/home/ana/Manuals/maintenance.md"), "Pump maintenance", None, 3, 4, "Pump", 3, 4)
REPORT = Citation(2, 7, 7, Path("/home/ana/Reports/report.pdf"), "Report", 7, None, None, None, 31, 31)
ANSWER = "It takes 42 Nm 【1†L3-L4】 and the gate shuts at 21:40 【2†L7】; made up: 【9†L1】. Again 【1†L3-L4】."


def browser(cursor, first, last):
    return {(1, 3, 4): NOTES, (2, 7, 7): REPORT}.get((cursor, first, last))


def test_a_citation_survives_json_and_damaged_ones_are_skipped():
    assert citation_from_dict(citation_to_dict(NOTES)) == NOTES
    assert citation_from_dict(citation_to_dict(REPORT)) == REPORT
    assert citation_from_dict({"cursor": 1, "first": 2, "last": 2, "path": "/a.md"}) == \
        Citation(1, 2, 2, Path("/a.md"), "a.md", None, None, None, None)
    assert citation_from_dict({**citation_to_dict(NOTES), "page": "seven", "shade": "blue"}).page is None
    for damaged in (None, [], {"path": "/a.md"}, {**citation_to_dict(NOTES), "cursor": True},
                    {**citation_to_dict(NOTES), "path": ""}):
        assert citation_from_dict(damaged) is None


def test_the_citations_the_browser_knows_are_kept_once_each():
    stats = with_citations({"reason": "stop"}, ANSWER, browser)
    assert stats["reason"] == "stop" and [c["cursor"] for c in stats[KEY]] == [1, 2]
    assert kept_citations(stats) == [NOTES, REPORT]
    resolve = kept_resolver(stats)
    assert resolve(1, 3, 4) == NOTES and resolve(2, 7, 7) == REPORT and resolve(9, 1, 1) is None
    assert with_citations({}, ANSWER, None) == {KEY: []}  # no browser: plain text for good
    assert with_citations({"reason": "stop"}, "No citations here.", browser) == {"reason": "stop"}
    assert kept_resolver({}) is None and kept_citations({KEY: "damaged"}) is None


def test_a_cited_answer_saved_is_linked_by_a_fresh_history_to_the_same_file_and_line(qtbot, tmp_path):
    path = tmp_path / "history.sqlite3"
    history = History(path)
    chat = history.create_conversation("Pump")
    history.add_message(chat.id, "user", "What torque?")
    answer = history.add_message(chat.id, "assistant", status="streaming")
    answer.content, answer.status = ANSWER, "complete"
    answer.stats = with_citations({"reason": "stop"}, answer.content, browser)
    history.update_message(answer)
    history.close()

    again = History(path)  # Hearth started again: no browser knows cursor 1 now
    saved = again.messages(chat.id)[-1]
    assert saved.content == ANSWER  # the text as the model wrote it
    view = MessageView(saved)
    qtbot.addWidget(view)
    label = view.body.prose_labels()[0]
    assert label.citations == [NOTES, REPORT, NOTES]
    assert "【maintenance.md, line 3】" in label.text() and "【report.pdf, page 7】" in label.text()
    assert "【9†L1】" in label.text()  # the browser never knew it: as written
    clicked = []
    view.citation_activated.connect(clicked.append)
    label.linkActivated.emit("hearth-citation:0")
    assert clicked == [NOTES] and (clicked[0].path, clicked[0].line) == (NOTES.path, 3)
    again.close()


def test_each_version_of_an_answer_keeps_its_own_citations_and_what_a_newer_hearth_added(tmp_path):
    history = History(tmp_path / "h.db")
    chat = history.create_conversation("Pump")
    answer = history.add_message(chat.id, "assistant", status="streaming")
    answer.content, answer.status = "First 【1†L3-L4】.", "complete"
    newer = {**citation_to_dict(NOTES), "quote": "42 Nm"}  # a field this Hearth does not know
    answer.stats = {KEY: [newer], "confidence": {"kept": True}}
    history.update_message(answer)
    second = history.new_version(answer)
    second.content, second.status = "Second 【2†L7】.", "complete"
    second.stats = with_citations({}, second.content, browser)
    history.update_message(second)
    first = history.show_version(second, 1)
    assert first.stats == {KEY: [newer], "confidence": {"kept": True}}  # nothing lost on the way
    assert kept_citations(first.stats) == [NOTES]
    assert kept_citations(history.show_version(first, 2).stats) == [REPORT]
    history.close()


def test_a_file_from_before_citations_were_kept_opens_with_them_as_written(qtbot, tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA)  # schema version 0, as the first Hearth wrote it
    old.execute("INSERT INTO conversations (id, title, created, updated) VALUES (1, 'Old chat', 0, 0)")
    old.execute("INSERT INTO messages (conversation_id, role, content, stats, created) "
                "VALUES (1, 'assistant', 'It takes 42 Nm 【1†L3】.', '{\"reason\": \"stop\"}', 0)")
    old.commit()
    old.close()
    history = History(path)
    assert history._rows("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    (message,) = history.messages(1)
    assert kept_citations(message.stats) is None
    view = MessageView(message)
    qtbot.addWidget(view)
    # A later browser numbers its pages afresh: it must not be asked about this answer's cursor.
    view.set_citation_resolver(lambda cursor, first, last: NOTES)
    label = view.body.prose_labels()[0]
    assert "【1†L3】" in label.text() and not label.citations
    history.close()
