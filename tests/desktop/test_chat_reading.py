"""Reading a long message in the real window: the answer being written says how much is read
and about how long the rest takes, Stop works meanwhile, and the line goes once the model
writes. A scripted session (helpers.py) takes `read_seconds` per prompt step."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from core.engine.constants import PREFILL_CHUNK
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import scripted_loader, wait_until

LONG = " ".join(f"word{i}" for i in range(2000))  # several prompt steps
READING = re.compile(r"Reading your message: \d{1,2}%, (about \d+ min left|less than a minute left)")


@pytest.fixture
def send_long(qtbot, make_window, settings, store, tiny_checkpoint):
    """Sends LONG to a window whose session takes `read_seconds` per prompt step; returns the
    window and the answer's view."""
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    settings.temperature = 0.0
    settings.max_new_tokens = 400

    def send(read_seconds, sessions):
        window = make_window(InferenceWorker(load_fn=scripted_loader(sessions=sessions, read_seconds=read_seconds)))
        wait_until(qtbot, lambda: window.loaded is not None)
        window.composer.set_text(LONG)
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        wait_until(qtbot, lambda: len(window.transcript.views) == 2)
        return window, window.transcript.views[1]

    return send


def test_reading_progress_shows_in_the_answer_and_goes_when_it_starts(qtbot, send_long):
    sessions = []
    window, answer = send_long(0.1, sessions)
    wait_until(qtbot, lambda: answer.reading.isVisible())
    assert READING.fullmatch(answer.reading.text()), answer.reading.text()
    assert answer.thinking.isHidden()  # not "Thinking…" while it is still reading
    seen = {answer.reading.text()}
    wait_until(qtbot, lambda: seen.add(answer.reading.text()) or answer.message.reasoning)
    assert len(seen) > 1  # it moved on as the reading went
    assert answer.reading.isHidden()
    wait_until(qtbot, lambda: not window.chat.busy)
    assert answer.reading.isHidden() and answer.message.status == "complete"
    assert sessions[0].prompt_steps > 3


def test_stop_works_while_the_message_is_being_read(qtbot, send_long):
    sessions = []
    window, answer = send_long(0.3, sessions)
    wait_until(qtbot, lambda: answer.reading.isVisible())
    assert window.composer.send_button.text() == "Stop"
    window.composer.send_button.click()
    wait_until(qtbot, lambda: not window.chat.busy, timeout=5)
    assert len(sessions[0].tokens) < len(LONG.split()) - PREFILL_CHUNK  # it stopped reading part way
    assert sessions[0].decode_steps == 0
    assert answer.message.status == "stopped" and answer.reading.isHidden()
