"""The chat window when the history fails under it: another program holding the file while a
message is sent or an answer saved, a chat on a damaged page, and a start on a damaged or
read-only file. Nothing typed may be lost, the window must not freeze, and every problem is a
sentence in a banner (an exception in a slot fails the test: pytest-qt catches it)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from PySide6.QtCore import Qt

from desktop import answer_stream, app, chat_controller
from desktop import history as history_module
from desktop.history_open import open_history
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import ANSWER, scripted_loader, wait_until
from tests.desktop.history_faults import damage_page, fill, locked, page_holding, root_page, text_of


@pytest.fixture
def installed(store, tiny_checkpoint):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    return store


@pytest.fixture
def chat_window(make_window, installed, settings, qtbot, monkeypatch):
    """A window with a scripted model loaded, retrying refused writes every 0.2 s."""
    monkeypatch.setattr(chat_controller, "RETRY_MS", 200)
    monkeypatch.setattr(answer_stream, "RETRY_MS", 200)
    settings.temperature = 0.0
    settings.max_new_tokens = 400

    def make(step_seconds=0.0):
        window = make_window(InferenceWorker(load_fn=scripted_loader(step_seconds=step_seconds)))
        wait_until(qtbot, lambda: window.loaded is not None)
        return window

    return make


def type_and_send(qtbot, window, text) -> float:
    """Seconds the GUI thread spent on pressing Enter."""
    qtbot.keyClicks(window.composer.edit, text)
    started = time.monotonic()
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    return time.monotonic() - started


# -- another program holds the file --------------------------------------------------------------
def test_a_message_sent_while_the_history_is_locked_is_kept_retried_and_sent(qtbot, chat_window, tmp_path):
    window = chat_window()
    with locked(tmp_path / "history.sqlite3"):
        assert type_and_send(qtbot, window, "Hello") < 2.0  # once: about 5 s, frozen
        # Once: an empty composer, and the message nowhere.
        assert window.composer.text() == "Hello"
        assert window.transcript.views == [] and window.chat.conversation_id is None
        assert "Your message was not sent yet" in window.banner.text()
        assert "back in the message box" in window.banner.text() and "tries again" in window.banner.text()
        assert window.history.conversations() == []  # not half a turn either
    wait_until(qtbot, lambda: not window.chat.busy and len(window.transcript.views) == 2)
    assert window.composer.text() == "" and window.banner.text() == "Your message has been sent."
    saved = window.history.messages(window.chat.conversation_id)
    assert [(m.role, m.content) for m in saved] == [("user", "Hello"), ("assistant", ANSWER)]


def test_a_message_the_history_keeps_refusing_waits_in_the_composer_for_send(qtbot, chat_window, tmp_path):
    window = chat_window()
    with locked(tmp_path / "history.sqlite3"):
        type_and_send(qtbot, window, "Hello")
        wait_until(qtbot, lambda: "could still not be sent" in window.banner.text())
        assert "press Send to try again" in window.banner.text()
        assert window.composer.text() == "Hello" and window.chat.unsent is None
        qtbot.wait(500)
        assert window.history.conversations() == []  # it stopped trying by itself
    window.composer.send_button.click()
    wait_until(qtbot, lambda: not window.chat.busy and len(window.transcript.views) == 2)
    assert [m.content for m in window.history.messages(window.chat.conversation_id)] == ["Hello", ANSWER]


def test_an_answer_the_history_refuses_stays_on_screen_and_is_saved_when_it_can_be(qtbot, chat_window, tmp_path):
    window = chat_window(step_seconds=0.02)
    type_and_send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: len(window.transcript.views) == 2 and window.transcript.views[1].message.reasoning)
    cid = window.chat.conversation_id
    with locked(tmp_path / "history.sqlite3"):
        wait_until(qtbot, lambda: not window.chat.busy)
        assert window.transcript.views[1].message.content == ANSWER
        assert "The answer could not be saved yet" in window.banner.text()
        saved = window.history.messages(cid)[1]
        assert saved.status == "streaming" and saved.content != ANSWER
        window.new_chat()  # leaving the chat and coming back shows the answer, not the saved part
        window.chat.open_conversation(cid)
        assert window.transcript.views[1].message.content == ANSWER
    wait_until(qtbot, lambda: window.history.messages(cid)[1].status == "complete")
    assert window.history.messages(cid)[1].content == ANSWER
    assert window.banner.text() == "The answer has been saved."


def test_renaming_or_deleting_a_chat_while_the_history_is_locked_says_so_and_changes_nothing(
        qtbot, make_window, tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite3"
    (cid,) = fill(path, chats=1, messages=2)
    window = make_window(history_path=path)
    monkeypatch.setattr(window.models, "confirm", lambda *_: True)
    with locked(path):
        window.conversation_list.list.item(0).setText("Sourdough")
        assert "The chat was not renamed." in window.banner.text()
        wait_until(qtbot, lambda: window.conversation_list.titles() == ["Chat 0"])
        window.conversations.delete(cid)
        assert "The chat was not deleted." in window.banner.text()
    assert window.history.conversation(cid).title == "Chat 0" and len(window.history.messages(cid)) == 2


# -- a damaged page met while running ------------------------------------------------------------
def test_selecting_a_chat_on_a_damaged_index_page_shows_it_and_says_so(qtbot, make_window, tmp_path):
    path = tmp_path / "history.sqlite3"
    ids = fill(path, chats=2, messages=2)
    damage_page(path, root_page(path, "messages_by_conversation"))
    window = make_window(history_path=path)  # opened as it is, as if damaged while running
    assert sorted(window.conversation_list.ids()) == ids
    window.conversation_list.list.setCurrentRow(1)  # Chat 0: the list is newest first
    assert window.chat.conversation_id == ids[0]
    assert [v.message.content for v in window.transcript.views] == [text_of(0, 0), text_of(0, 1)]
    assert "This chat is stored in a damaged part of the chat history file" in window.banner.text()
    assert "could still read all of it" in window.banner.text() and "Restart Hearth" in window.banner.text()
    qtbot.keyClicks(window.conversation_list.search, "chat 1 message 1")  # once: it raised
    assert window.conversation_list.ids() == [ids[1]]


def test_a_damaged_chat_replaces_the_previous_transcript_with_what_can_be_read(qtbot, make_window, tmp_path):
    path = tmp_path / "history.sqlite3"
    ids = fill(path, chats=2, messages=4)
    damage_page(path, page_holding(path, "<chat 1 message 2>"))
    window = make_window(history_path=path)
    window.chat.open_conversation(ids[0])
    assert len(window.transcript.views) == 4
    window.chat.open_conversation(ids[1])  # once: chat 0 stayed on screen while chat 1 was current
    shown = [v.message.content for v in window.transcript.views]
    assert window.chat.conversation_id == ids[1] and 0 < len(shown) < 4 and text_of(1, 2) not in shown
    assert set(shown) < {text_of(1, m) for m in range(4)}
    assert f"Hearth shows the {len(shown)} message" in window.banner.text()


# -- a damaged or read-only file at start --------------------------------------------------------
def test_the_window_starts_on_a_damaged_file_and_says_it_was_moved_aside(qtbot, make_window, tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(path)
    damage_page(path, page_holding(path, "<chat 1 message 2>"))
    window = make_window(history=open_history(path))
    assert not window.history_banner.isHidden()
    assert "The chat history file was damaged" in window.history_banner.text()
    assert "history.damaged-" in window.history_banner.text()
    assert window.conversation_list.titles() == ["Chat 2", "Chat 1", "Chat 0"]


def test_the_window_starts_on_a_read_only_file_and_says_chats_are_not_saved(qtbot, make_window, tmp_path,
                                                                           monkeypatch):
    # Read-only as SQLite sees it (mode=ro): root writes through file modes, and this test should
    # run where no read-only mount can be made (test_history_faults.py mounts one for real).
    path = tmp_path / "history.sqlite3"
    fill(path)
    monkeypatch.setattr(history_module, "_connect", lambda p: sqlite3.connect(
        f"file:{p}?mode=ro", uri=True, isolation_level=None))
    window = make_window(history=open_history(path))
    assert "Hearth cannot save chats" in window.history_banner.text()
    assert "export it (File > Export chat…)" in window.history_banner.text()
    assert len(window.conversation_list.ids()) == 3


def test_the_app_builds_its_window_on_a_file_that_is_not_a_database(tmp_path, monkeypatch, settings):
    (tmp_path / "history.sqlite3").write_bytes(b"\0garbage" * 1000)  # once: an exit with a traceback
    settings.models_dir = str(tmp_path / "models")
    monkeypatch.setattr(app, "user_data_dir", lambda: tmp_path)
    monkeypatch.setattr("core.system.egress.guard", lambda: "the process's guard")
    monkeypatch.setattr("desktop.main_window.MainWindow", lambda _settings, history, _store, guard: history)
    history = app.build_window(settings)
    assert history.saves and "no chat could be read from the old file" in history.problem
    assert len(list(tmp_path.glob("history.damaged-*.sqlite3"))) == 1
    history.close()
