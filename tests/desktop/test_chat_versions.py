"""Regenerate keeps the earlier versions of an answer, in the real window: "< 1/2 >" pages
through them, the version shown is the one the conversation continues from, and the versions
are there after a restart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import ANSWER, scripted_loader, tokenizer, wait_until

SECOND = "A second way to say hello."
SECOND_SCRIPT = f"<|channel|>final<|message|>{SECOND}<|return|>"


@pytest.fixture
def window_factory(qtbot, make_window, settings, store, tiny_checkpoint, tmp_path):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    settings.temperature = 0.0
    settings.max_new_tokens = 400

    def make(sessions):
        window = make_window(InferenceWorker(load_fn=scripted_loader(sessions=sessions)),
                             history_path=tmp_path / "history.sqlite3")
        wait_until(qtbot, lambda: window.loaded is not None)
        return window

    return make


def send(qtbot, window, text):
    qtbot.keyClicks(window.composer.edit, text)
    with qtbot.waitSignal(window.chat.request_generate) as asked:
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: not window.chat.busy)
    return asked.args[0]  # the ChatRequest: what the model is given


def test_regenerate_keeps_the_earlier_answer_and_pages_between_them(qtbot, window_factory):
    sessions = []
    window = window_factory(sessions)
    send(qtbot, window, "Hello")
    answer = window.transcript.views[1]
    assert answer.pager.isHidden()
    sessions[0].script = tokenizer().encode(SECOND_SCRIPT, allow_special=True)  # the model says it otherwise
    answer.regenerate_button.click()
    wait_until(qtbot, lambda: not window.chat.busy)
    answer = window.transcript.views[1]
    assert answer.message.content == SECOND and answer.pager.isVisible() and answer.pager.text() == "2/2"
    answer.pager.previous_button.click()
    assert answer.message.content == ANSWER and answer.body.text() == ANSWER and answer.pager.text() == "1/2"
    assert [m.content for m in window.history.messages(window.chat.conversation_id)] == ["Hello", ANSWER]
    # The conversation goes on from the version shown.
    request = send(qtbot, window, "And then?")
    assert [m["content"] for m in request.messages if m["role"] == "assistant"] == [ANSWER]
    # An answer followed by others keeps the version they follow from.
    earlier = window.transcript.views[1]
    assert earlier.pager.text() == "1/2" and not earlier.pager.next_button.isEnabled()


def test_versions_are_there_after_a_restart(qtbot, window_factory):
    sessions = []
    window = window_factory(sessions)
    send(qtbot, window, "Hello")
    sessions[0].script = tokenizer().encode(SECOND_SCRIPT, allow_special=True)
    window.transcript.views[1].regenerate_button.click()
    wait_until(qtbot, lambda: not window.chat.busy)
    window.close()
    again = window_factory([])
    again.conversation_list.list.setCurrentRow(0)
    answer = again.transcript.views[1]
    assert answer.message.content == SECOND and answer.pager.text() == "2/2"
    answer.pager.previous_button.click()
    assert answer.message.content == ANSWER and answer.pager.text() == "1/2"
