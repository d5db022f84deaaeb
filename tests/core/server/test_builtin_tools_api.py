"""The API with the model's built-in tools: the server runs the browser and python calls itself
and the client gets the answer only, whole, streamed and through /v1/responses (no `tool_calls`,
no function_call items), the results having reached the model's next prompt; a client's own
function tools still come back to it; a client that leaves stops a running Python call; the policy
refuses a tool it turns off. Real tiny checkpoints scripted to use the tools."""

from __future__ import annotations

import json
import socket
import threading
import time

import openai
import pytest
import torch

from core import load_model
from core.chat.builtin_tools import unavailable_tool_result
from core.chat.tool_turns import BuiltinTools
from core.docs import Library
from core.server.http import ServedModel, serve_in_background
from core.system.policy import Policy, PolicyForbids
from tests.core.server.api_fixtures import running
from tests.scripted_tools import (
    CITED_ANSWER,
    FACT_VIEW,
    PYTHON_ANSWER,
    PYTHON_ROUNDS,
    SEARCH_ROUNDS,
    SLEEPING_CALL,
    index_documents,
    tokenizer,
    write_round_model,
)

QUESTION = [{"role": "user", "content": "What torque does the zephyr bearing take?"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
WEATHER_CALL = '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Oslo"}<|call|>'


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


def model(folder, rounds):
    return load_model(write_round_model(folder, rounds), dtype=torch.float32)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    return model(tmp_path_factory.mktemp("searcher"), SEARCH_ROUNDS)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    root = tmp_path_factory.mktemp("documents")
    return Library(index_documents(root / "library", root / "folder"))


def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=60)


def test_the_server_searches_opens_and_answers_with_the_citation_only(searcher, library, tok):
    session = searcher.new_session(4096)
    with running(ServedModel("gpt-oss", tok, session), builtin_tools=BuiltinTools(("browser",), library=library)) \
            as server:
        api = client(server)
        answer = api.chat.completions.create(model="gpt-oss", messages=QUESTION, temperature=0)
        choice = answer.choices[0]
        assert choice.message.content == CITED_ANSWER and choice.finish_reason == "stop"
        assert choice.message.tool_calls is None
        # Every step's tokens are counted; the prompt is the last step's, which holds the opened page.
        prompt = tok.decode(session.tokens)
        assert FACT_VIEW in prompt and "<|start|>browser.search to=assistant" in prompt
        last_prompt = prompt[:prompt.rindex("<|start|>assistant")] + "<|start|>assistant"
        assert answer.usage.prompt_tokens == len(tok.encode(last_prompt, allow_special=True))
        steps = [tok.encode(text, allow_special=True) for text in SEARCH_ROUNDS]
        assert answer.usage.completion_tokens == sum(map(len, steps))

        chunks = list(api.chat.completions.create(model="gpt-oss", messages=QUESTION, temperature=0, stream=True))
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        assert "".join(d.content or "" for d in deltas) == CITED_ANSWER
        assert not any(d.tool_calls for d in deltas)
        assert chunks[-1].choices[0].finish_reason == "stop"

        response = api.responses.create(model="gpt-oss", input=QUESTION[0]["content"], temperature=0)
        assert [item.type for item in response.output] == ["message"] and response.output_text == CITED_ANSWER
        events = list(api.responses.create(model="gpt-oss", input=QUESTION[0]["content"], temperature=0,
                                           stream=True))
        assert not any("function_call" in e.type for e in events)
        assert events[-1].type == "response.completed" and events[-1].response.output_text == CITED_ANSWER


def test_python_keeps_its_variables_within_one_request(tmp_path, tok):
    coder = model(tmp_path / "coder", PYTHON_ROUNDS)
    session = coder.new_session(4096)
    with running(ServedModel("gpt-oss", tok, session), builtin_tools=BuiltinTools(("python",))) as server:
        answer = client(server).chat.completions.create(model="gpt-oss", messages=QUESTION, temperature=0)
        assert answer.choices[0].message.content == PYTHON_ANSWER
        assert "<|start|>python to=assistant<|channel|>analysis<|message|>42\n<|end|>" in tok.decode(session.tokens)


def test_without_tools_a_builtin_call_is_answered_not_available(searcher, tok):
    session = searcher.new_session(4096)
    with running(ServedModel("gpt-oss", tok, session)) as server:
        answer = client(server).chat.completions.create(model="gpt-oss", messages=QUESTION, temperature=0)
        assert answer.choices[0].message.content == CITED_ANSWER and answer.choices[0].message.tool_calls is None
        prompt = tok.decode(session.tokens)
        assert "# Tools" not in prompt and unavailable_tool_result("browser.open") in prompt


def test_a_client_function_call_still_goes_back_to_the_client(tmp_path, library, tok):
    caller = model(tmp_path / "caller", (WEATHER_CALL,))
    with running(ServedModel("gpt-oss", tok, caller.new_session(4096)),
                 builtin_tools=BuiltinTools(("browser", "python"), library=library)) as server:
        answer = client(server).chat.completions.create(model="gpt-oss", temperature=0, tools=[WEATHER],
                                                        messages=[{"role": "user", "content": "Weather in Oslo?"}])
        choice = answer.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.tool_calls[0].function.name == "get_weather"
        assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Oslo"}


class WatchedTools(BuiltinTools):
    """Built-in tools that note when a call starts, is stopped and ends (one log for every request)."""

    def __init__(self, offered, log: list):
        super().__init__(offered)
        self.log = log

    def new_chat(self) -> WatchedTools:
        return WatchedTools(self.offered, self.log)

    def run(self, name, arguments):
        self.log.append(("run", time.monotonic(), None))
        text = super().run(name, arguments)
        self.log.append(("ran", time.monotonic(), text))
        return text

    def stop(self):
        self.log.append(("stop", time.monotonic(), None))
        super().stop()


def test_a_client_that_leaves_stops_a_running_python_call(tmp_path, tok):
    sleeper = model(tmp_path / "sleeper", (SLEEPING_CALL,))
    log: list = []
    with running(ServedModel("gpt-oss", tok, sleeper.new_session(4096)),
                 builtin_tools=WatchedTools(("python",), log)) as server:
        raw = socket.create_connection(("127.0.0.1", server.server_port))
        body = json.dumps({"model": "gpt-oss", "messages": QUESTION, "temperature": 0}).encode()
        raw.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        deadline = time.monotonic() + 30
        while not any(kind == "run" for kind, *_ in log):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # inside the sleep
        left = time.monotonic()
        raw.close()
        while not any(kind == "ran" for kind, *_ in log):
            assert time.monotonic() < left + 15, log  # not the 60 s of the sleep
            time.sleep(0.05)
        kinds = [kind for kind, *_ in log]
        assert kinds.index("stop") < kinds.index("ran") and log[-1][2].endswith("KeyboardInterrupt")


def test_the_policy_refuses_a_tool_it_turns_off(searcher, tok):
    policy = Policy(builtin_tools=frozenset({"browser"}), reason="Set by ACME IT.")
    with pytest.raises(PolicyForbids, match=r"^Running Python \(the model's python tool\) is turned off"):
        serve_in_background(searcher, tok, "gpt-oss", "127.0.0.1", 0, policy=policy,
                            builtin_tools=BuiltinTools(("python",)))
    server = serve_in_background(searcher, tok, "gpt-oss", "127.0.0.1", 0, policy=policy,
                                 builtin_tools=BuiltinTools(("browser",)))
    server.stop()


def test_requests_are_answered_one_after_another_with_tools_of_their_own(tmp_path, tok):
    coder = model(tmp_path / "coder", PYTHON_ROUNDS)
    log: list = []
    with running(ServedModel("gpt-oss", tok, coder.new_session(4096)),
                 builtin_tools=WatchedTools(("python",), log)) as server:
        api = client(server)
        answers = []
        askers = [threading.Thread(target=lambda: answers.append(api.chat.completions.create(
            model="gpt-oss", messages=QUESTION, temperature=0).choices[0].message.content)) for _ in range(2)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join(60)
        assert answers == [PYTHON_ANSWER, PYTHON_ANSWER]
        # Each request ran its two calls in a fresh session: `secret` was made by its own first call.
        assert [text for kind, _, text in log if kind == "ran"] == [
            "[WARN] No output available. Use print() to output anything to stdout to receive the output", "42\n"] * 2
