"""What a remote turn asks: the settings checked with sentences, the chat-completions body
(reasoning sent back only with the calls of the turn still going on), and the Responses API
body (the history as input items, tools in its flatter shape, no stop texts)."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.remote.request_body import RemoteSettings, chat_body, responses_body

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!", "reasoning": "A greeting."},
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": "", "reasoning": "Need the tool.", "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'},
]


def test_the_chat_body():
    body = chat_body("gpt-oss-120b", HISTORY, RemoteSettings(max_tokens=100, reasoning_effort="high",
                                                             temperature=0.5, stop=("END",)), [TOOL])
    assert body["model"] == "gpt-oss-120b" and body["stream"] and body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["reasoning_effort"], body["temperature"], body["stop"]) == (100, "high", 0.5,
                                                                                                ["END"])
    assert "top_p" not in body and "seed" not in body  # left to the server
    assert "reasoning" not in body["messages"][2]  # an answered turn's thoughts are dropped
    assert body["messages"][4]["reasoning"] == "Need the tool."  # kept with the call it led to
    assert body["tools"] == [TOOL]
    assert "max_tokens" not in chat_body("m", HISTORY, RemoteSettings())


def test_the_responses_body():
    body = responses_body("gpt-oss-120b", HISTORY, RemoteSettings(max_tokens=50, seed=3), [TOOL])
    assert body["max_output_tokens"] == 50 and body["reasoning"] == {"effort": "medium"} and body["store"] is False
    assert "seed" not in body
    assert body["input"] == [
        {"type": "message", "role": "system", "content": "Be brief."},
        {"type": "message", "role": "user", "content": "Hi"},
        {"type": "message", "role": "assistant", "content": "Hello!"},
        {"type": "message", "role": "user", "content": "Weather?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"sky": "sunny"}'},
    ]
    assert body["tools"] == [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    with pytest.raises(InvalidInput, match="Stop texts cannot be used with the Responses API"):
        responses_body("m", HISTORY, RemoteSettings(stop=("x",)))


@pytest.mark.parametrize(("options", "sentence"), [
    ({"max_tokens": 0}, "at least 1 token"), ({"reasoning_effort": "max"}, "low, medium or high"),
    ({"temperature": 3}, "between 0 and 2"), ({"top_p": 0}, "above 0"), ({"stop": ("",)}, "none of them empty"),
])
def test_settings_are_checked_with_sentences(options, sentence):
    with pytest.raises(InvalidInput, match=sentence):
        RemoteSettings(**options)


def test_a_json_schema_is_each_apis_strict_response_format():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    settings = RemoteSettings(json_schema=schema, schema_name="count")
    chat = chat_body("m", [{"role": "user", "content": "Hi"}], settings)
    assert chat["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "count", "schema": schema, "strict": True}}
    responses = responses_body("m", [{"role": "user", "content": "Hi"}], settings)
    assert responses["text"] == {"format": {"type": "json_schema", "name": "count", "schema": schema, "strict": True}}
    assert "response_format" not in chat_body("m", [], RemoteSettings())
