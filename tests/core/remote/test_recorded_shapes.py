"""The answers of servers that do not run here (vLLM, SGLang, llama.cpp, Ollama), as recorded
fixtures written from their documentation and protocol source (tests/core/remote/fixtures/,
each naming where its shape comes from), played back over HTTP by a tiny local server and read
by the remote client into the same answer a local turn gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.chat.answer import Answer
from core.chat.events import Finished, MessageStarted, ToolCall, TurnEnded
from core.remote import RemoteModel, RemoteServer
from core.remote.chat_stream import ChatStreamReader
from core.remote.responses_stream import ResponsesStreamReader
from tests.core.remote.fake_server import fake_server

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


def replay(fixture: dict):
    """A server answering every request with the fixture's recorded answer."""
    def respond(handler, body):
        if "whole" in fixture:
            handler.json(200, fixture["whole"])
        else:  # the Responses API ends with its last event, chat completions with [DONE]
            handler.sse(fixture["stream"], done=fixture["api"] == "chat")
    return fake_server(respond)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_a_recorded_answer_reads_as_a_local_one(path):
    fixture = json.loads(path.read_text())
    assert fixture["source"]  # each fixture says where its shape comes from
    expect = fixture["expect"]
    with replay(fixture) as server:
        model = RemoteModel(RemoteServer.open(server.url), "openai/gpt-oss-120b", api=fixture["api"])
        events = list(model.generate([{"role": "user", "content": "Hi"}]))
        sent = server.requests[0]
    assert sent["path"] == ("/v1/chat/completions" if fixture["api"] == "chat" else "/v1/responses")
    answer = Answer.of(events)
    assert answer.reasoning == expect["reasoning"]
    assert answer.content == expect["content"]
    assert [(c.name, c.arguments) for c in answer.calls] == [tuple(c) for c in expect["calls"]]
    done = events[-1]
    assert isinstance(done, Finished) and done.reason == expect["finish"] and done.error is None
    if expect["usage"]:
        assert (done.prompt_tokens, done.reused_tokens, done.generated_tokens) == tuple(expect["usage"])
    # The message events are those of a local turn: a call ends with ToolCall, the turn with TurnEnded.
    ended = [e for e in events if isinstance(e, TurnEnded)]
    if expect["finish"] == "stop":
        assert ended == [TurnEnded("call" if expect["calls"] else "return")]
    else:
        assert ended == []
    assert [e.recipient for e in events if isinstance(e, ToolCall)] == [f"functions.{c[0]}" for c in expect["calls"]]
    channels = [e.channel for e in events if isinstance(e, MessageStarted)]
    assert channels == (["analysis"] if expect["reasoning"] else []) + (["final"] if expect["content"] else []) + \
        ["commentary"] * len(expect["calls"])


def test_the_readers_alone_give_the_same_answer_piece_by_piece():
    for path in FIXTURES:
        fixture = json.loads(path.read_text())
        reader = ChatStreamReader() if fixture["api"] == "chat" else ResponsesStreamReader()
        if "whole" in fixture:
            events = reader.whole(fixture["whole"])
        else:
            events = [e for item in fixture["stream"] for e in reader.feed(item)]
        answer = Answer.of(events)
        assert (answer.reasoning, answer.content) == (fixture["expect"]["reasoning"], fixture["expect"]["content"]), \
            path.stem
        assert reader.complete, path.stem


def test_a_server_that_sends_both_reasoning_fields_is_read_once():
    reader = ChatStreamReader()
    events = reader.feed({"choices": [{"index": 0, "delta": {"reasoning": "Hm.", "reasoning_content": "Hm."}}]})
    events += reader.feed({"choices": [{"index": 0, "delta": {"content": "Yes."}, "finish_reason": "stop"}]})
    assert Answer.of(events).reasoning == "Hm."


def test_parallel_calls_numbered_zero_stay_apart():
    reader = ChatStreamReader()
    events = []
    for call_id, name, args in (("a", "first", "{}"), ("b", "second", '{"x": 1}')):
        events += reader.feed({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": call_id, "function": {"name": name, "arguments": args}}]}}]})
    events += reader.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    assert [(c.name, c.arguments) for c in Answer.of(events).calls] == [("first", "{}"), ("second", '{"x": 1}')]
