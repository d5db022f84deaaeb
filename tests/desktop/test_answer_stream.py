"""The answer being written, without a window: the worker's events grow it and the history keeps
it, and it ends complete, stopped, cut short by closing or failed, each said as its status. The
window's own tests (test_chat_window.py, test_chat_history_faults.py) drive it through the chat."""

from __future__ import annotations

import pytest

from core.chat.events import Finished, MessageEnded, MessageStarted, TextDelta
from desktop.answer_stream import AnswerStream
from desktop.history import History


class StillView:
    """Stands in for the answer's MessageView: what it was last asked to show."""

    def __init__(self):
        self.running, self.reading = None, None

    def refresh(self, running: bool = False) -> None:
        self.running = running

    def set_reading(self, reading) -> None:
        self.reading = reading


def finished(reason="stop", error=None) -> Finished:
    return Finished(reason, prompt_tokens=12, reused_tokens=0, generated_tokens=5, prompt_tokens_per_second=100.0,
                    decode_tokens_per_second=20.0, time_to_first_token=0.1, error=error)


THOUGHT_AND_SAID = [
    MessageStarted("analysis"), TextDelta("analysis", "Thinking."), MessageEnded("analysis", "Thinking."),
    MessageStarted("final"), TextDelta("final", "Hello "), TextDelta("final", "there."),
]


@pytest.fixture
def started(qtbot, tmp_path):
    """A stream writing an answer into a chat of a fresh history; returns it, the history, the
    answer's view and what it reported."""
    history = History(tmp_path / "history.sqlite3")
    stops: list[bool] = []
    stream = AnswerStream(history, stop_fn=lambda: stops.append(True))
    said = {"ended": 0, "finished": [], "problem": [], "stops": stops}
    stream.ended.connect(lambda: said.__setitem__("ended", said["ended"] + 1))
    stream.turn_finished.connect(said["finished"].append)
    stream.problem.connect(said["problem"].append)
    cid = history.create_conversation("A chat").id
    history.add_message(cid, "user", "Hi")
    answer = history.add_message(cid, "assistant", status="streaming")
    view = StillView()
    stream.start(answer, view, None)
    yield stream, history, view, said
    history.close()


def test_events_grow_the_answer_and_a_finish_saves_it_complete(started):
    stream, history, view, said = started
    answer = stream.answer
    stream.on_events(THOUGHT_AND_SAID)
    assert (answer.reasoning, answer.content) == ("Thinking.", "Hello there.")
    assert view.running is True and stream.answer is answer
    stream.on_events([MessageEnded("final", "Hello there."), finished()])
    assert stream.answer is None and view.running is False and said["ended"] == 1
    saved = history.messages(answer.conversation_id)[-1]
    assert (saved.status, saved.content, saved.reasoning) == ("complete", "Hello there.", "Thinking.")
    assert saved.stats["generated_tokens"] == 5 and saved.stats["tokens_per_second"] == 20.0
    assert saved.reasoning_seconds is not None and [f.reason for f in said["finished"]] == ["stop"]


def test_a_stopped_answer_is_stopped_and_one_cut_short_by_closing_is_interrupted(qtbot, tmp_path, started):
    stream, history, _view, said = started
    answer = stream.answer
    stream.on_events(THOUGHT_AND_SAID)
    stream.stop()
    assert said["stops"] == [True]
    stream.on_events([finished("cancelled")])
    assert history.messages(answer.conversation_id)[-1].status == "stopped"
    stream.stop()  # nothing is being written: the worker is not asked
    assert said["stops"] == [True]

    again = history.new_version(answer)
    stream.start(again, StillView(), None)
    stream.stop_for_closing()
    stream.on_events([finished("cancelled")])
    assert history.messages(answer.conversation_id)[-1].status == "interrupted"


def test_a_failed_turn_keeps_what_was_written_and_says_why(started):
    stream, history, _view, said = started
    answer = stream.answer
    stream.on_events(THOUGHT_AND_SAID)
    stream.on_generation_failed("The model stopped working.")
    saved = history.messages(answer.conversation_id)[-1]
    assert (saved.status, saved.content) == ("error", "Hello there.")
    assert saved.stats["error"] == "The model stopped working." and said["problem"] == ["The model stopped working."]
    assert said["ended"] == 1 and said["finished"] == []


def test_an_answer_abandoned_at_shutdown_is_saved_as_cut_short(started):
    stream, history, _view, _said = started
    answer = stream.answer
    stream.on_events(THOUGHT_AND_SAID)
    stream.abandon()
    stream.abandon()  # once is enough
    saved = history.messages(answer.conversation_id)[-1]
    assert (saved.status, saved.content) == ("interrupted", "Hello there.")


def test_the_answer_being_written_stands_in_for_its_saved_row(started):
    stream, history, _view, _said = started
    answer = stream.answer
    stream.on_events(THOUGHT_AND_SAID)  # saved with the batch that ended a message
    stream.on_events([TextDelta("final", " More.")])  # not saved yet: no message has ended since
    stored = history.messages(answer.conversation_id)
    assert stored[-1].content == "Hello there." and answer.content == "Hello there. More."
    latest = stream.latest(stored)
    assert latest[0] is stored[0] and latest[-1] is answer
