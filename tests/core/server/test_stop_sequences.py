"""The `stop` field: the answer ends before the first stop string, wherever the tokens split it."""

from __future__ import annotations

import threading

import pytest

from core.chat.events import Finished, MessageEnded, MessageStarted, TextDelta, TurnEnded
from core.server.stop_sequences import StopSequences

DONE = Finished(reason="cancelled", prompt_tokens=10, reused_tokens=0, generated_tokens=7,
                prompt_tokens_per_second=1.0, decode_tokens_per_second=1.0, time_to_first_token=0.1)


def turn(*pieces: str, reasoning: str = "Think: END here too.") -> list:
    return [MessageStarted("analysis"), TextDelta("analysis", reasoning), MessageEnded("analysis", reasoning),
            MessageStarted("final"), *[TextDelta("final", p) for p in pieces], MessageEnded("final", "".join(pieces)),
            TurnEnded("stop"), DONE]


def run(stops, events):
    cancel = threading.Event()
    stopper = StopSequences(stops, cancel)
    out = list(stopper.filter(iter(events)))
    final = "".join(e.text for e in out if isinstance(e, TextDelta) and e.channel == "final")
    ended = [e.text for e in out if isinstance(e, MessageEnded) and e.channel == "final"]
    return final, ended, out[-1].reason, cancel.is_set()


@pytest.mark.parametrize("pieces", [("One, two, END, three",), ("One, two, E", "N", "D, three"),
                                    ("One, two, EN", "D", ", three")])
def test_the_answer_ends_before_the_stop_string_however_it_is_split(pieces):
    final, ended, reason, cancelled = run(("END",), turn(*pieces))
    assert final == "One, two, " and ended == ["One, two, "] and reason == "stop" and cancelled


def test_text_held_back_as_a_possible_start_is_passed_on_when_it_is_not():
    final, ended, reason, cancelled = run(("ENDING",), turn("It is the EN", "D of it"))
    assert final == "It is the END of it" and ended == [final] and reason == "cancelled" and not cancelled


def test_the_earliest_of_several_stops_wins_and_reasoning_is_not_searched():
    final, _, reason, _ = run(("three", "two"), turn("one two three"))
    assert final == "one " and reason == "stop"
