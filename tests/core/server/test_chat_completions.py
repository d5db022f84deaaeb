"""The API's translation layer without HTTP: a turn's events -> chat completion, stream deltas
and responses output; requests -> what the core is asked; and the admission queue."""

from __future__ import annotations

import threading
import time

import pytest

from core.chat.answer import Answer
from core.chat.events import Finished, MessageStarted, TextDelta
from core.server.api_errors import ApiError
from core.server.chat_completions import (
    chat_completion,
    chat_delta,
    chat_request,
    response_object,
    responses_request,
)
from core.server.request_queue import Admission, QueueFull, ShuttingDown
from tests.core.chat.test_answer import CALL_TURN as TURN  # one turn: reasoning, preamble, tool call


def finished(reason="stop", generated=9):
    return Finished(reason=reason, prompt_tokens=40, reused_tokens=0, generated_tokens=generated,
                    prompt_tokens_per_second=1.0, decode_tokens_per_second=1.0, time_to_first_token=0.1)




def deltas_of(answer, events):
    """The stream deltas the chat endpoint sends for `events`."""
    return [d for event in events for piece in answer.add(event) if (d := chat_delta(piece, answer)) is not None]


def test_a_turn_becomes_a_chat_completion_with_reasoning_apart():
    answer = Answer()
    deltas = deltas_of(answer, TURN)
    assert deltas[:2] == [{"reasoning_content": "Need "}, {"reasoning_content": "weather."}]
    assert deltas[2] == {"content": "Let me check."}  # a preamble is shown text
    start = deltas[3]["tool_calls"][0]
    assert start["index"] == 0 and start["function"] == {"name": "get_weather", "arguments": ""}
    assert [d["tool_calls"][0]["function"]["arguments"] for d in deltas[4:]] == ['{"city":', ' "Oslo"}']
    body = chat_completion(answer, "gpt-oss-20b", "chatcmpl-1")
    message = body["choices"][0]["message"]
    assert message["content"] == "Let me check." and message["reasoning_content"] == "Need weather."
    assert message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49,
                             "prompt_tokens_details": {"cached_tokens": 3}}
    output = response_object(answer, "gpt-oss-20b")["output"]
    assert [item["type"] for item in output] == ["reasoning", "message", "function_call"]
    assert output[2]["call_id"] == message["tool_calls"][0]["id"] and output[2]["name"] == "get_weather"


def test_hidden_reasoning_and_a_length_stop():
    answer = Answer(include_reasoning=False)
    events = [MessageStarted("analysis"), TextDelta("analysis", "secret"), MessageStarted("final"),
              TextDelta("final", "Hi"), finished("length", 2)]
    assert deltas_of(answer, events) == [{"content": "Hi"}]
    body = chat_completion(answer, "m", "id")
    assert "reasoning_content" not in body["choices"][0]["message"]
    assert body["choices"][0]["finish_reason"] == "length"
    response = response_object(answer, "m")
    assert response["status"] == "incomplete" and response["incomplete_details"] == {"reason": "max_output_tokens"}


def test_chat_requests_map_to_the_core():
    request = chat_request({
        "model": "m", "temperature": 0, "top_p": 0.5, "seed": 7, "max_completion_tokens": 30,
        "reasoning_effort": "high", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Q"},
                     {"role": "assistant", "content": "A", "reasoning_content": "thought"}],
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none", "user": "ignored",
    }, "m")
    sampling = request.settings.sampling
    assert sampling.temperature == 0 and sampling.top_p == 0.5 and sampling.seed == 7
    assert request.max_tokens == 30 and request.settings.reasoning_effort == "high"
    assert request.stream and request.include_usage
    assert request.messages[1] == {"role": "assistant", "content": "A", "reasoning": "thought"}
    assert request.tools is None  # tool_choice "none": the model is not told about them


def test_responses_requests_map_to_the_core():
    request = responses_request({
        "model": "m", "instructions": "Be brief.", "max_output_tokens": 50, "reasoning": {"effort": "low"},
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
                  {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
                  {"type": "function_call_output", "call_id": "c1", "output": "sunny"}],
    }, "m")
    assert request.messages[0] == {"role": "developer", "content": "Be brief."}
    assert request.messages[1] == {"role": "user", "content": "Weather?"}
    assert request.messages[2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "{}"}
    assert request.messages[3] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
    assert request.max_tokens == 50 and request.settings.reasoning_effort == "low"
    for bad in ({"model": "m", "input": "x", "previous_response_id": "r"},
                {"model": "m", "input": [{"type": "input_image"}]},
                {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]}):
        with pytest.raises(ApiError) as raised:
            responses_request(bad, "m")
        assert raised.value.status == 400


# -- admission --------------------------------------------------------------------------
def test_admission_is_one_at_a_time_first_come_first_served():
    admission = Admission(max_waiting=3)
    never = threading.Event()
    assert admission.enter(never)
    order = []

    def wait(name):
        assert admission.enter(never)
        order.append(name)
        admission.leave()

    threads = []
    for name in "abc":
        threads.append(threading.Thread(target=wait, args=(name,)))
        threads[-1].start()
        while admission.waiting < len(threads):
            time.sleep(0.005)
    with pytest.raises(QueueFull):
        admission.enter(never)
    admission.leave()
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"] and admission.waiting == 0
    assert admission.enter(never)  # free again
    admission.leave()


def test_a_waiter_that_leaves_gives_up_its_place_and_closing_refuses():
    admission = Admission(max_waiting=1)
    assert admission.enter(threading.Event())
    gone = threading.Event()
    threading.Timer(0.05, gone.set).start()
    assert admission.enter(gone) is False and admission.waiting == 0
    results = []
    waiter = threading.Thread(target=lambda: results.append(_enter_or_refusal(admission)))
    waiter.start()
    while admission.waiting < 1:
        time.sleep(0.005)
    admission.close()
    waiter.join(5)
    assert results == ["ShuttingDown"]
    with pytest.raises(ShuttingDown):
        admission.enter(threading.Event())


def _enter_or_refusal(admission: Admission) -> str:
    try:
        return str(admission.enter(threading.Event()))
    except ShuttingDown:
        return "ShuttingDown"
