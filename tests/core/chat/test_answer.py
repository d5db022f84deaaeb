"""core/chat/answer.py: the one builder from a turn's events to its answer."""

from __future__ import annotations

from core.chat.answer import MESSAGE_SEPARATOR, Answer, Piece
from core.chat.events import (
    Finished,
    Malformed,
    MessageEnded,
    MessageStarted,
    Notice,
    Speed,
    TextDelta,
    ToolCall,
    TurnEnded,
)


def finished(reason="stop", generated=9, speed=12.5):
    return Finished(reason=reason, prompt_tokens=40, reused_tokens=3, generated_tokens=generated,
                    prompt_tokens_per_second=100.0, decode_tokens_per_second=speed, time_to_first_token=0.2)


CALL_TURN = [
    MessageStarted("analysis"), TextDelta("analysis", "Need "), TextDelta("analysis", "weather."),
    MessageEnded("analysis", "Need weather."),
    MessageStarted("commentary"), TextDelta("commentary", "Let me check."), MessageEnded("commentary", "Let me check."),
    MessageStarted("commentary", "functions.get_weather", "<|constrain|>json"),
    TextDelta("commentary", '{"city":', "functions.get_weather"),
    TextDelta("commentary", ' "Oslo"}', "functions.get_weather"),
    MessageEnded("commentary", '{"city": "Oslo"}', "functions.get_weather"),
    ToolCall("functions.get_weather", '{"city": "Oslo"}', "<|constrain|>json"),
    TurnEnded("call"), finished(),
]


def test_reasoning_preamble_and_a_tool_call_each_land_in_their_place():
    answer = Answer()
    pieces = [piece for event in CALL_TURN for piece in answer.add(event)]
    assert [(p.kind, p.text) for p in pieces] == [
        ("reasoning", "Need "), ("reasoning", "weather."), ("content", "Let me check."),
        ("call", "get_weather"), ("arguments", '{"city":'), ("arguments", ' "Oslo"}')]
    assert pieces[2].preamble and pieces[3].call == 0 == pieces[4].call
    assert answer.reasoning == "Need weather."
    assert answer.content == answer.preamble == "Let me check."  # a preamble is meant for the person
    assert [(c.name, c.arguments) for c in answer.calls] == [("get_weather", '{"city": "Oslo"}')]
    assert answer.finish_reason == "tool_calls"
    assert answer.usage() == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49,
                              "prompt_tokens_details": {"cached_tokens": 3}}
    message = answer.message()
    assert message["content"] == "Let me check." and message["reasoning"] == "Need weather."
    assert message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}


def test_the_complete_arguments_replace_what_streamed():
    answer = Answer.of([MessageStarted("commentary", "functions.f"), TextDelta("commentary", '{"a"', "functions.f"),
                        ToolCall("functions.f", '{"a": 1}')])
    assert answer.calls[0].arguments == '{"a": 1}'
    # A call that never streamed (no MessageStarted seen) is still kept, and shown, whole.
    answer = Answer()
    assert answer.add(ToolCall("functions.g", "{}")) == [Piece("call", "g", 0), Piece("arguments", "{}", 0)]
    assert answer.calls[0].name == "g" and answer.calls[0].arguments == "{}"


def test_two_messages_of_a_kind_are_kept_apart():
    answer = Answer.of([MessageStarted("analysis"), TextDelta("analysis", "One."), MessageStarted("analysis"),
                        TextDelta("analysis", "Two."), MessageStarted("final"), TextDelta("final", "Hi")])
    assert answer.reasoning == "One." + MESSAGE_SEPARATOR + "Two." and answer.content == "Hi"
    assert answer.preamble == ""


def test_hidden_reasoning_leaves_no_trace():
    answer = Answer(include_reasoning=False)
    events = [MessageStarted("analysis"), TextDelta("analysis", "secret"), MessageStarted("final"),
              TextDelta("final", "Hi"), finished("length", 2)]
    assert [p for e in events for p in answer.add(e)] == [Piece("content", "Hi")]
    assert answer.reasoning == "" and "reasoning" not in answer.message()
    assert answer.finish_reason == "length"


def test_speed_is_live_then_the_exact_final_figure():
    answer = Answer()
    answer.add(Speed(5, 9.0))
    assert answer.tokens_per_second == 9.0
    answer.add(finished(speed=10.5))
    assert answer.tokens_per_second == 10.5 and answer.finished.reused_tokens == 3


def test_notices_and_format_problems_are_sentences_of_the_turn():
    answer = Answer()
    assert answer.add(Notice("Old turns were dropped.", 2)) == [Piece("notice", "Old turns were dropped.")]
    assert answer.add(Malformed("a stray token")) == [Piece("problem", "a stray token")]
    assert answer.notices == ["Old turns were dropped."] and answer.problems == ["a stray token"]
    assert answer.content == "" and answer.finish_reason == "stop"


def test_builtin_calls_are_marked_and_keep_their_whole_name():
    answer = Answer()
    events = [MessageStarted("analysis", "python", "code"), TextDelta("analysis", "print(1)", "python"),
              MessageEnded("analysis", "print(1)", "python"), ToolCall("python", "print(1)", "code"),
              MessageStarted("commentary", "functions.get_weather", "<|constrain|>json"),
              ToolCall("functions.get_weather", "{}", "<|constrain|>json")]
    pieces = [piece for event in events for piece in answer.add(event)]
    assert [(p.kind, p.text, p.call) for p in pieces] == [
        ("call", "python", 0), ("arguments", "print(1)", 0), ("call", "get_weather", 1)]
    assert [(c.name, c.builtin) for c in answer.calls] == [("python", True), ("get_weather", False)]
    assert answer.reasoning == ""  # the code is the call's, not the reasoning's
    # A built-in call that never streamed is kept whole, and marked too.
    assert Answer.of([ToolCall("browser.open", '{"id": 3}')]).calls[0].builtin
