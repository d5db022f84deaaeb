"""The remote client against a real server: Hearth's own `hearth serve` on loopback, answering
with a scripted engine session (reasoning, then a function call): the answer streams as the
events of a local turn, over both the chat-completions and the Responses API; a conversation
carries the tool's result back; the API key and the reasoning effort reach the server; its
model list and its 401 and 404 come back as sentences."""

from __future__ import annotations

import pytest

from core.chat.answer import Answer
from core.chat.events import Finished, MessageStarted, TextDelta, ToolCall, TurnEnded
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.remote import ModelGone, NotAuthorized, RemoteConversation, RemoteModel, RemoteServer, RemoteSettings
from core.server.http import ServedModel
from tests.core.server.api_fixtures import ScriptedSession, running

CALLING = ("<|channel|>analysis<|message|>Need the weather.<|end|>"
           "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
           '<|message|>{"city": "Oslo"}<|call|>')
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CHAT = [{"role": "user", "content": "Weather in Oslo?"}]


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_streamed_answer_with_reasoning_and_a_tool_call(tok, api):
    session = ScriptedSession(tok, CALLING)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        model = RemoteModel(RemoteServer.open(server.url), "gpt-oss-20b", api=api)
        events = list(model.generate(CHAT, settings=RemoteSettings(reasoning_effort="high", max_tokens=200),
                                     tools=[WEATHER_TOOL]))
    reasoning = [e.text for e in events if isinstance(e, TextDelta) and e.channel == "analysis"]
    assert len(reasoning) > 1  # streamed piece by piece, not at the end
    answer = Answer.of(events)
    assert answer.reasoning == "Need the weather."
    assert [(c.name, c.arguments) for c in answer.calls] == [("get_weather", '{"city": "Oslo"}')]
    assert answer.finish_reason == "tool_calls"
    assert [e for e in events if isinstance(e, (ToolCall, TurnEnded))] == [
        ToolCall("functions.get_weather", '{"city": "Oslo"}', "json"), TurnEnded("call")]
    assert [e.channel for e in events if isinstance(e, MessageStarted)] == ["analysis", "commentary"]
    done = events[-1]
    assert isinstance(done, Finished) and done.reason == "stop" and done.error is None
    assert done.prompt_tokens == len(session.prompts[0]) and done.generated_tokens > 5
    assert done.time_to_first_token > 0
    prompt = tok.decode(session.prompts[0])
    assert "Reasoning: high" in prompt and "get_weather" in prompt


def test_a_conversation_gives_the_tools_result_back(tok):
    session = ScriptedSession(tok, CALLING)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        chat = RemoteConversation(RemoteModel(RemoteServer.open(server.url), "gpt-oss-20b"),
                                  system="Be brief.", tools=[WEATHER_TOOL])
        assert [c.name for c in Answer.of(chat.send("Weather in Oslo?")).calls] == ["get_weather"]
        (call,) = chat.messages[-1]["tool_calls"]  # the id the history knows the call by
        second = list(chat.add_tool_result(call["id"], '{"sky": "sunny"}'))
    assert isinstance(second[-1], Finished) and second[-1].reason == "stop"
    assert [m["role"] for m in chat.messages] == ["system", "user", "assistant", "tool", "assistant"]
    prompt = tok.decode(session.prompts[1])
    # The call, the reasoning that led to it and the result all reached the server's prompt.
    assert '{"sky": "sunny"}' in prompt and "Need the weather." in prompt and "Be brief." in prompt


def test_the_api_key_and_the_models_list(tok):
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, CALLING)), api_key="s3cret") as server:
        assert RemoteServer.open(server.url, api_key="s3cret").models() == ["gpt-oss-20b"]
        with pytest.raises(NotAuthorized, match="did not accept the API key"):
            RemoteServer.open(server.url, api_key="wrong").models()
        with pytest.raises(NotAuthorized, match="needs an API key, and none was given"):
            list(RemoteModel(RemoteServer.open(server.url), "gpt-oss-20b").generate(CHAT))
        with pytest.raises(ModelGone, match=r"The model gpt-oss-120b is not on the server at 127\.0\.0\.1:\d+"):
            list(RemoteModel(RemoteServer.open(server.url, api_key="s3cret"), "gpt-oss-120b").generate(CHAT))
