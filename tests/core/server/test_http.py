"""The local OpenAI-compatible API, driven by the official `openai` client and by raw HTTP:
models, chat completions whole and streamed, reasoning kept out of `content`, function tools,
/v1/responses, malformed requests, the API key, the queue under a burst of clients, and
client disconnects cancelling their generation. Servers listen on 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import torch

from core import load_model
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.server.http import ServedModel, serve_in_background
from core.system.policy import Policy, PolicyForbids
from tests.core.server.api_fixtures import ScriptedSession, call, running
from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

CHAT = [{"role": "user", "content": "Hi there"}]
HELLO = "<|channel|>final<|message|>Hello world!<|return|>"
THOUGHTFUL = ("<|channel|>analysis<|message|>The user greets me.<|end|>"
              "<|start|>assistant<|channel|>final<|message|>Hello!<|return|>")
WEATHER_CALL = '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>'
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


def scripted_model(folder, tok, reply: str):
    script = [tok.start, *tok.encode("assistant"), *tok.encode(reply, allow_special=True)]
    write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0])
    return load_model(folder, dtype=torch.float32)


@pytest.fixture(scope="module")
def hello(tmp_path_factory, tok):
    """A real tiny checkpoint whose greedy answer is always "Hello world!"."""
    return scripted_model(tmp_path_factory.mktemp("hello"), tok, HELLO)


def client(server, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=options.pop("api_key", "unused"), max_retries=0, **options)


def test_models_and_a_whole_answer_through_the_real_engine(hello, tok):
    with running(ServedModel("gpt-oss-20b", tok, hello.new_session(1024))) as server:
        api = client(server)
        assert [m.id for m in api.models.list()] == ["gpt-oss-20b"]
        assert api.models.retrieve("gpt-oss-20b").owned_by == "hearth"
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0)
        choice = answer.choices[0]
        assert choice.message.content == "Hello world!" and choice.finish_reason == "stop"
        assert choice.message.tool_calls is None
        assert answer.usage.prompt_tokens > 0
        assert answer.usage.completion_tokens == len(tok.encode(HELLO, allow_special=True))
        # The same prompt again reuses the session's cache and gives the same answer.
        again = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0)
        assert again.choices[0].message.content == "Hello world!"
        assert answer.usage.prompt_tokens_details.cached_tokens == 0
        assert 0 < again.usage.prompt_tokens_details.cached_tokens < again.usage.prompt_tokens
        # A client set up with the server's address without /v1 is answered too.
        bare = openai.OpenAI(base_url=server.url.removesuffix("/v1"), api_key="x", max_retries=0)
        assert [m.id for m in bare.models.list()] == ["gpt-oss-20b"]
        assert bare.chat.completions.create(model="gpt-oss-20b", messages=CHAT,
                                            temperature=0).choices[0].message.content == "Hello world!"


def test_a_streamed_answer_through_the_real_engine(hello, tok):
    with running(ServedModel("gpt-oss-20b", tok, hello.new_session(1024))) as server:
        chunks = list(client(server).chat.completions.create(
            model="gpt-oss-20b", messages=CHAT, temperature=0, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello world!"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(tok.encode(HELLO, allow_special=True))


def test_function_tools_become_tool_calls(tmp_path, tok):
    model = scripted_model(tmp_path, tok, WEATHER_CALL)
    with running(ServedModel("gpt-oss-20b", tok, model.new_session(2048))) as server:
        api = client(server)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, tools=[WEATHER_TOOL], temperature=0)
        streamed = list(api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, tools=[WEATHER_TOOL],
                                                    temperature=0, stream=True))
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and not choice.message.content
    (call_,) = choice.message.tool_calls
    assert call_.type == "function" and call_.function.name == "get_weather" and call_.id.startswith("call_")
    assert json.loads(call_.function.arguments) == {"city": "Paris"}
    deltas = [d for c in streamed if c.choices for d in c.choices[0].delta.tool_calls or ()]
    assert deltas[0].function.name == "get_weather" and deltas[0].id
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"city": "Paris"}
    assert streamed[-1].choices[0].finish_reason == "tool_calls"


def test_reasoning_is_returned_apart_from_the_content(tok):
    session = ScriptedSession(tok, THOUGHTFUL)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        api = client(server)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, reasoning_effort="high")
        chunks = list(api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stream=True,
                                                  reasoning_effort="low"))
    message = answer.choices[0].message
    assert message.content == "Hello!"
    assert message.model_extra["reasoning_content"] == "The user greets me."
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "Hello!"
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == "The user greets me."
    assert not any("greets" in (d.content or "") for d in deltas)
    # reasoning_effort reached the harmony system message.
    assert "Reasoning: high" in tok.decode(session.prompts[0]) and "Reasoning: low" in tok.decode(session.prompts[1])


def test_responses_basic_text(tok):
    session = ScriptedSession(tok, THOUGHTFUL)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        response = client(server).responses.create(model="gpt-oss-20b", input="Hi", instructions="Be brief.",
                                                   reasoning={"effort": "low"}, max_output_tokens=100)
    assert response.output_text == "Hello!" and response.status == "completed"
    assert [item.type for item in response.output] == ["reasoning", "message"]
    assert response.usage.output_tokens > 0
    prompt = tok.decode(session.prompts[0])
    assert "Be brief." in prompt and "Reasoning: low" in prompt


def stream_response(tok, reply: str, **request):
    """(every event, the final response) of a streamed /v1/responses request, through the
    official client's own stream helper, which checks the events' order as it assembles them."""
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, reply))) as server, \
            client(server).responses.stream(model="gpt-oss-20b", **request) as stream:
        return list(stream), stream.get_final_response()


def test_responses_streamed(tok):
    events, final = stream_response(tok, THOUGHTFUL, input="Hi")
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.reasoning_text.delta" in kinds and "response.output_text.delta" in kinds
    assert final.output_text == "Hello!" and [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].content[0].text == "The user greets me."
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
    events, final = stream_response(tok, WEATHER_CALL, input="Weather?", tools=[tool])
    arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    (call_,) = final.output
    assert call_.type == "function_call" and call_.name == "get_weather" and call_.call_id.startswith("call_")
    assert json.loads(arguments) == json.loads(call_.arguments) == {"city": "Paris"}


def test_stop_strings_end_the_answer_whole_and_streamed(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>One, two, three, four.<|return|>")
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        api = client(server)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stop=[", three", "five"])
        assert answer.choices[0].message.content == "One, two" and answer.choices[0].finish_reason == "stop"
        chunks = list(api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stop=", three", stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "One, two"
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
        with pytest.raises(openai.BadRequestError, match="stop"):
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stop=["a", "b", "c", "d", "e"])
        # A stop that never comes changes nothing.
        whole = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stop="six")
        assert whole.choices[0].message.content == "One, two, three, four."


def test_a_reasoning_budget_ends_the_thinking_and_the_model_answers(tok):
    # A model that would think forever (as random weights do): the budget makes it answer.
    session = ScriptedSession(tok, "<|channel|>analysis<|message|>" + " hmm" * 40, loop=True)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        api = client(server)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, max_tokens=60,
                                             extra_body={"reasoning": {"max_tokens": 8}})
        message = answer.choices[0].message
        assert message.content and len(tok.encode(message.model_extra["reasoning_content"])) <= 9
        response = api.responses.create(model="gpt-oss-20b", input="Hi", max_output_tokens=60,
                                        reasoning={"effort": "low", "max_tokens": 8})
        assert response.output_text
        with pytest.raises(openai.BadRequestError, match=r"reasoning\.max_tokens"):
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, extra_body={"reasoning": {"max_tokens": 0}})


def test_a_failing_engine_gives_an_error_and_the_server_goes_on(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>One two three four<|return|>", fail_at=3)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        api = client(server)
        with pytest.raises(openai.InternalServerError, match="internal error"):
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT)
        with pytest.raises(openai.APIError, match="internal error"):
            list(api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, stream=True))
        events = list(api.responses.create(model="gpt-oss-20b", input="Hi", stream=True))
        assert events[-1].type == "error" and "internal error" in events[-1].message
        session.fail_at = None
        assert api.chat.completions.create(model="gpt-oss-20b", messages=CHAT).choices[0].message.content


def test_serve_in_background_obeys_the_policy(hello, tok):
    with pytest.raises(PolicyForbids, match="turned off"):
        serve_in_background(hello, tok, "gpt-oss-20b", policy=Policy(api_server="off"))
    with pytest.raises(PolicyForbids, match="only listen on this computer"):
        serve_in_background(hello, tok, "gpt-oss-20b", "0.0.0.0", policy=Policy(api_server="loopback"))
    with pytest.raises(PolicyForbids, match="not allowed"):
        serve_in_background(hello, tok, "gpt-oss-20b", policy=Policy(allowed_models=frozenset({"gpt-oss-120b"})))
    # The name clients send is a label: a model that is no catalogue model is refused under any name.
    with pytest.raises(PolicyForbids, match="served as 'gpt-oss-20b' is not one of the models Hearth knows"):
        serve_in_background(hello, tok, "gpt-oss-20b", policy=Policy(allowed_models=frozenset({"gpt-oss-20b"})))
    server = serve_in_background(hello, tok, "gpt-oss-20b", port=0, policy=Policy(reasoning_display="hidden"))
    try:
        assert not server.include_reasoning
        answer = client(server).chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0)
        assert answer.choices[0].message.content == "Hello world!"
    finally:
        server.stop()


# -- malformed requests: proper errors, and the server keeps answering ----------------------
BAD = [
    ("not json", b"{'model': ", 400, None),
    ("not an object", b"[1, 2]", 400, None),
    ("no messages", {"model": "gpt-oss-20b"}, 400, "messages"),
    ("empty messages", {"model": "gpt-oss-20b", "messages": []}, 400, "messages"),
    ("bad role", {"model": "gpt-oss-20b", "messages": [{"role": "robot", "content": "x"}]}, 400, "messages[0].role"),
    ("image content", {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:,"}}]}]}, 400, "messages[0].content[0]"),
    ("unknown model", {"model": "gpt-5", "messages": CHAT}, 404, "model"),
    ("tool not a function", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [{"type": "web_search"}]}, 400,
     "tools[0]"),
    ("tool without a name", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [
        {"type": "function", "function": {"name": "two words"}}]}, 400, "tools[0].function.name"),
    ("tools not a list", {"model": "gpt-oss-20b", "messages": CHAT, "tools": {"a": 1}}, 400, "tools"),
    ("tool parameters", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [
        {"type": "function", "function": {"name": "f", "parameters": "city"}}]}, 400, "tools[0].function.parameters"),
    ("tool_choice of nothing", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [WEATHER_TOOL],
                                "tool_choice": "always"}, 400, "tool_choice"),
    ("effort", {"model": "gpt-oss-20b", "messages": CHAT, "reasoning_effort": "extreme"}, 400, "reasoning_effort"),
    ("temperature", {"model": "gpt-oss-20b", "messages": CHAT, "temperature": "hot"}, 400, "temperature"),
    ("max_tokens", {"model": "gpt-oss-20b", "messages": CHAT, "max_tokens": 0}, 400, "max_tokens"),
    ("n", {"model": "gpt-oss-20b", "messages": CHAT, "n": 3}, 400, "n"),
    ("stream flag", {"model": "gpt-oss-20b", "messages": CHAT, "stream": "yes"}, 400, "stream"),
    ("tool result without id", {"model": "gpt-oss-20b", "messages": [*CHAT, {"role": "tool", "content": "1"}]}, 400,
     "messages"),
    # Each of these once ended in a 500 ("The server failed while answering") or was silently ignored.
    ("content a number", {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": 1}]}, 400,
     "messages[0].content"),
    ("text part without text", {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
     400, "messages[0].content[0].text"),
    ("text part a number", {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": [
        {"type": "text", "text": 5}]}]}, 400, "messages[0].content[0].text"),
    *[(f"tool_calls {calls!r}", {"model": "gpt-oss-20b", "messages": [*CHAT, {"role": "assistant", "content": None,
                                                                        "tool_calls": calls}]},
       400, param) for calls, param in (("x", "messages[1].tool_calls"), ([1], "messages[1].tool_calls[0]"),
                                         ([{"function": "x"}], "messages[1].tool_calls[0]"))],
    ("property not a schema", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {"city": 5}}}}]}, 400,
     "tools[0].function.parameters.properties.city"),
    ("description not text", {"model": "gpt-oss-20b", "messages": CHAT, "tools": [
        {"type": "function", "function": {"name": "f", "description": 5}}]}, 400, "tools[0].function.description"),
    ("seed beyond 64 bits", {"model": "gpt-oss-20b", "messages": CHAT, "seed": 2**70}, 400, "seed"),
    ("presence_penalty", {"model": "gpt-oss-20b", "messages": CHAT, "presence_penalty": "x"}, 400, "presence_penalty"),
    ("parallel_tool_calls", {"model": "gpt-oss-20b", "messages": CHAT, "parallel_tool_calls": "x"}, 400,
     "parallel_tool_calls"),
    ("audio answers", {"model": "gpt-oss-20b", "messages": CHAT, "modalities": ["audio"]}, 400, "modalities"),
    ("top_logprobs alone", {"model": "gpt-oss-20b", "messages": CHAT, "top_logprobs": 3}, 400, "top_logprobs"),
    ("store", {"model": "gpt-oss-20b", "messages": CHAT, "store": "x"}, 400, "store"),
]


def test_malformed_requests_get_proper_errors(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>", max_tokens=256)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        for name, body, status, param in BAD:
            got, error, _ = call(server, "POST", "/v1/chat/completions",
                                 raw=body if isinstance(body, bytes) else json.dumps(body).encode())
            assert got == status, name
            assert error["error"]["message"] and error["error"]["param"] == param, (name, error)
        long = [{"role": "user", "content": "word " * 400}]
        got, error, _ = call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": long})
        assert got == 400 and error["error"]["code"] == "context_length_exceeded"
        assert "maximum context length is 256 tokens" in error["error"]["message"]
        fits_alone = {"model": "gpt-oss-20b", "messages": CHAT, "max_tokens": 250}
        assert call(server, "POST", "/v1/chat/completions", fits_alone)[1]["error"]["code"] == "context_length_exceeded"
        assert call(server, "POST", "/v1/chat/completions", raw=b"{}", headers={"Content-Type": "text/plain"})[0] == 415
        # Refused from its Content-Length alone, before a byte of the body is read.
        assert call(server, "POST", "/v1/chat/completions", raw=b"{}",
                    headers={"Content-Length": str(9 * 2**20)})[0] == 413
        assert call(server, "GET", "/v1/chat/completions")[0] == 405
        assert call(server, "GET", "/v1/nothing")[0] == 404
        assert call(server, "GET", "/v1/models/gpt-5")[0] == 404
        assert call(server, "POST", "/v1/responses", {"model": "gpt-oss-20b", "input": "x", "stream": 1})[0] == 400
        assert call(server, "POST", "/v1/responses", {"model": "gpt-oss-20b", "input": 5})[0] == 400
        no_text = {"input": [{"role": "user", "content": [{"type": "input_text"}]}]}
        for field in ({"text": "x"}, {"store": "x"}, no_text):
            got, error, _ = call(server, "POST", "/v1/responses", {"model": "gpt-oss-20b", "input": "x", **field})
            assert got == 400 and error["error"]["param"], field
        # Fields that change nothing here pass when their values are right.
        neutral = {"store": False, "metadata": {"app": "x"}, "user": "u", "parallel_tool_calls": True,
                   "presence_penalty": 0, "frequency_penalty": 0.0, "modalities": ["text"], "seed": 2**63}
        status, answer, _ = call(server, "POST", "/v1/chat/completions",
                                 {"model": "gpt-oss-20b", "messages": CHAT, **neutral})
        assert status == 200, answer
        # After all that, a good request is still answered.
        status, answer, _ = call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": CHAT})
        assert status == 200 and answer["choices"][0]["message"]["content"] == "Fine."
    assert len(session.prompts) == 2  # no refused request reached the engine


class _Panic(BaseException):
    """What a Rust library's panic looks like from Python (pyo3's PanicException is no Exception)."""


class _PanickingTokenizer:
    def __init__(self, tok):
        self._tok = tok

    def __getattr__(self, name):
        return getattr(self._tok, name)

    def encode(self, text, **options):
        if "PANIC" in text:
            raise _Panic("called `Result::unwrap()` on an `Err` value")
        return self._tok.encode(text, **options)


def raw_exchange(server, request: bytes) -> tuple[int, dict, str]:
    """(status, JSON body, raw head) for bytes sent as they are, however broken."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=30) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), head.decode("latin-1")


def test_hostile_requests_get_json_errors_and_the_server_goes_on(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>")
    with running(ServedModel("gpt-oss-20b", _PanickingTokenizer(tok), session)) as server:
        # A negative Content-Length once slipped past the body limit.
        status, error, _ = raw_exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                                                b"Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}")
        assert status == 400 and "Content-Length" in error["error"]["message"]
        # 100,000-deep nesting once ended in a RecursionError and a 500.
        deep = b"[" * 100_000 + b"]" * 100_000
        status, error, _ = call(server, "POST", "/v1/chat/completions", raw=deep)
        assert status == 400 and "nested too deeply" in error["error"]["message"]
        # Other methods, a broken request line and an over-long URL: JSON, not the standard library's HTML.
        for method in ("PUT", "DELETE", "OPTIONS", "PATCH"):
            status, error, headers = call(server, method, "/v1/models")
            assert status == 405 and headers["Allow"] == "GET, POST" and method in error["error"]["message"]
        status, error, head = raw_exchange(server, b"GARBAGE\r\n\r\n")
        assert status == 400 and error["error"]["message"].startswith("The request could not be read")
        assert "Python" not in head and "Server: Hearth" in head
        status, error, _ = raw_exchange(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
        assert status == 414 and error["error"]["message"]
        # A panic deep in a library still gets an answer, and the next request is served.
        panic = {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "PANIC"}]}
        status, error, _ = call(server, "POST", "/v1/chat/completions", panic)
        assert status == 500 and error["error"]["type"] == "server_error"
        status, answer, _ = call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": CHAT})
        assert status == 200 and answer["choices"][0]["message"]["content"] == "Fine."


def test_fifty_clients_at_once_each_get_an_http_answer(tok):
    # With the standard library's listen backlog of 5, 11 to 20 of 50 such clients were reset.
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>", delay=0.01)
    with running(ServedModel("gpt-oss-20b", tok, session), max_queue=4) as server:
        body = {"model": "gpt-oss-20b", "messages": CHAT}
        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(lambda _: call(server, "POST", "/v1/chat/completions", body)[0], range(50)))
    assert set(statuses) <= {200, 429, 503} and 200 in statuses


def test_api_key_and_foreign_host_names(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>")
    with running(ServedModel("gpt-oss-20b", tok, session), api_key="s3cret") as server:
        with pytest.raises(openai.AuthenticationError):
            client(server, api_key="wrong").models.list()
        assert call(server, "GET", "/v1/models")[0] == 401
        # A refused POST's body is never read, so its connection is not kept for another request.
        status, _, headers = call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": CHAT})
        assert status == 401 and headers["Connection"] == "close"
        assert [m.id for m in client(server, api_key="s3cret").models.list()] == ["gpt-oss-20b"]
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        # A page on another site, rebound to 127.0.0.1, still names its own host.
        status, error, _ = call(server, "GET", "/v1/models", headers={"Host": "evil.example:8080"})
        assert status == 403 and "evil.example" in error["error"]["message"]
        assert call(server, "GET", "/v1/models", headers={"Host": f"localhost:{server.server_port}"})[0] == 200


# -- one at a time, a bounded queue, and clients that leave ---------------------------------
def burst(server, clients: int) -> list[str]:
    api = client(server, timeout=60)

    def ask(_):
        try:
            answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT)
            return "answered" if answer.choices[0].message.content == "Fine." else "wrong"
        except openai.RateLimitError as refusal:
            assert refusal.response.headers["retry-after"] == "2"
            return "refused"

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(ask, range(clients)))


def test_a_burst_beyond_the_queue_gets_answers_or_clean_refusals(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>", delay=0.05)
    with running(ServedModel("gpt-oss-20b", tok, session), max_queue=2) as server:
        results = burst(server, 8)
        assert set(results) <= {"answered", "refused"}
        assert 1 <= results.count("answered") <= 8 and results.count("refused") >= 1
        assert server.admission.waiting == 0
        assert call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": CHAT})[0] == 200


@pytest.mark.slow
def test_a_burst_within_the_queue_is_answered_in_full(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Fine.<|return|>", delay=0.02)
    with running(ServedModel("gpt-oss-20b", tok, session), max_queue=8) as server:
        assert burst(server, 8) == ["answered"] * 8


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def settled(session: ScriptedSession) -> bool:
    before = session.decode_steps
    time.sleep(0.3)
    return session.decode_steps == before


def test_a_client_that_stops_reading_a_stream_frees_the_slot(tok):
    # It once held the one generation slot until its whole answer was written (minutes); now a
    # write that blocks for send_timeout cancels that answer.
    session = ScriptedSession(tok, "<|channel|>final<|message|>" + " word" * 50, loop=True)
    with running(ServedModel("gpt-oss-20b", tok, session), send_timeout=1.0) as server:
        stalled = socket.create_connection(("127.0.0.1", server.server_port))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        body = json.dumps({"model": "gpt-oss-20b", "messages": CHAT, "stream": True}).encode()  # to the context
        stalled.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:  # ... and never reads a byte of the answer.
            assert wait_until(lambda: session.decode_steps > 50)  # it holds the slot
            started = time.monotonic()
            status, answer, _ = call(server, "POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": CHAT,
                                                                               "max_tokens": 5})
            assert status == 200 and answer["choices"][0]["message"]["content"]
            assert time.monotonic() - started < 20  # send_timeout, not the whole answer
        finally:
            stalled.close()


def test_a_client_that_leaves_cancels_its_generation(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|> word word", delay=0.01, loop=True)
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        # Streamed: the client reads a little, then hangs up.
        stream = client(server).chat.completions.create(model="gpt-oss-20b", messages=CHAT, stream=True,
                                                        max_tokens=1000)
        for n, _ in enumerate(stream):
            if n == 3:
                break
        stream.close()
        assert wait_until(lambda: settled(session)) and session.decode_steps < 900
        # Whole answer: the client sends its request and goes away before anything is written.
        steps = session.decode_steps
        raw = socket.create_connection(("127.0.0.1", server.server_port))
        body = json.dumps({"model": "gpt-oss-20b", "messages": CHAT, "max_tokens": 1000}).encode()
        raw.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert wait_until(lambda: session.decode_steps > steps)
        raw.close()
        assert wait_until(lambda: settled(session)) and session.decode_steps < steps + 900
        # The model is free again at once.
        assert call(server, "POST", "/v1/chat/completions",
                    {"model": "gpt-oss-20b", "messages": CHAT, "max_tokens": 3})[0] == 200


def test_stopping_the_server_cancels_the_running_generation(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|> word", delay=0.01, loop=True)
    results = []
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        api = client(server, timeout=30)

        def ask():
            try:
                api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, max_tokens=3000)
                results.append("answered")
            except openai.APIError as failure:
                results.append(type(failure).__name__)

        asker = threading.Thread(target=ask)
        asker.start()
        assert wait_until(lambda: session.decode_steps > 5)
    asker.join(10)
    assert not asker.is_alive() and results == ["InternalServerError"]  # a 503: the server is stopping
    assert session.decode_steps < 2000
