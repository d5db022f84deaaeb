"""llama.cpp's own tests of its OpenAI-compatible server (ggml-org/llama.cpp, tools/server/tests/unit/:
test_chat_completion.py, test_completion.py, test_tool_call.py, test_basic.py, test_security.py), adapted
to Hearth's server so the two can be compared case by case.

Each case keeps its protocol point (the answer's shape and fields, status codes, determinism, the
validity of constrained output), not llama.cpp's expected wording, which comes from its tiny stories
model. Answers come from one random-weight checkpoint where the engine itself is under test (on random
weights only a grammar makes output valid, so the structured cases mean something), and from a
scripted session where a case needs particular words. Where Hearth deliberately lacks llama.cpp's
behaviour (n > 1, /v1/completions, llama.cpp's own request fields) the case is a strict xfail that
asserts llama.cpp's behaviour, so the count of passes stays honest. Each test names the llama.cpp test
it comes from.
"""

from __future__ import annotations

import http.client
import json
import re
from itertools import pairwise

import jsonschema
import openai
import pytest
import torch

from core import load_model
from core.chat.harmony import render_chat
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.engine.testing import tiny_config, write_checkpoint
from core.server.http import ServedModel
from tests.core.server.api_fixtures import ScriptedSession, call, running

MODEL = "gpt-oss-20b"
CONTEXT = 2048
KEY = "sk-this-is-the-secret-key"
BOOK = [{"role": "system", "content": "Book"}, {"role": "user", "content": "What is the best book"}]
CODING = [{"role": "system", "content": "You are a coding assistant."}, {"role": "user", "content": "Write an example"}]
HELLO_PYTHON = [{"role": "system", "content": "You are a coding assistant."},
                {"role": "user", "content": "say hello world with python"}]
# Under a grammar, random weights may otherwise think until max_tokens and never reach the answer.
THINK_BRIEFLY = {"reasoning": {"max_tokens": 6}}

# Schemas are bounded (maxLength, minimum/maximum, no extra properties) so random weights finish.
BOOK_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title", "year", "genre"],
               "properties": {"title": {"type": "string", "maxLength": 12},
                              "year": {"type": "integer", "minimum": 1800, "maximum": 2025},
                              "genre": {"enum": ["novel", "poetry", "essay"]}}}
BOOK_FORMAT = {"type": "json_schema", "json_schema": {"name": "book", "schema": BOOK_SCHEMA}}
ONE_INTEGER = {"type": "array", "prefixItems": [{"type": "integer", "minimum": -5000, "maximum": 5000}],
               "items": False, "minItems": 1}


def function_tool(name: str, description: str, properties: dict) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}}}


TEST_TOOL = function_tool("test", "", {"success": {"type": "boolean", "const": True}})
PYTHON_TOOL = function_tool("python", "Runs code in an ipython interpreter.",
                            {"code": {"type": "string", "maxLength": 24, "description": "The code to run."}})
WEATHER_TOOL = function_tool("get_current_weather", "Get the current weather in a given location",
                             {"location": {"type": "string", "description": "The city and country/state"}})

HELLO = "<|channel|>final<|message|>Hello world!<|return|>"


# -- servers and requests -------------------------------------------------------------------
@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tok):
    """A server on a random-weight tiny gpt-oss, shared by the module (its KV cache carries over)."""
    folder = write_checkpoint(tmp_path_factory.mktemp("random"), tiny_config(vocab_size=201088), seed=11)
    model = load_model(folder, dtype=torch.float32)
    with running(ServedModel(MODEL, tok, model.new_session(CONTEXT))) as server:
        yield server


@pytest.fixture(scope="module")
def scripted_server(tok):
    session = ScriptedSession(tok, HELLO)
    with running(ServedModel(MODEL, tok, session)) as server:
        yield server, session


@pytest.fixture
def scripted(scripted_server, tok):
    """`scripted(reply)`: the scripted server and its session, which now answers `reply` (harmony)."""
    server, session = scripted_server

    def answering(reply: str):
        session.reply = tok.encode(reply, allow_special=True)
        session.prompts.clear()
        return server, session

    return answering


@pytest.fixture(scope="module")
def keyed(tok):
    with running(ServedModel(MODEL, tok, ScriptedSession(tok, HELLO)), api_key=KEY) as server:
        yield server


def client(server, base_url: str | None = None, api_key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url or server.url, api_key=api_key, max_retries=0, timeout=60)


def chat(server, **body) -> tuple[int, dict]:
    """(status, JSON body) of one /v1/chat/completions request by raw HTTP."""
    status, answer, _ = call(server, "POST", "/v1/chat/completions", {"model": MODEL, **body})
    return status, answer


def stream_chunks(server, **body) -> list[dict]:
    """The JSON chunks of one streamed chat completion, read raw (so absent keys stay absent)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
    try:
        connection.request("POST", "/v1/chat/completions", json.dumps({"model": MODEL, **body, "stream": True}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read().decode()
        assert response.status == 200, payload
    finally:
        connection.close()
    frames = [line.removeprefix("data: ") for line in payload.split("\n") if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    return [json.loads(frame) for frame in frames[:-1]]


def turn(server, stream: bool, **body) -> tuple[dict, str]:
    """(message, finish_reason) of one chat completion, whole or put together from its stream."""
    if not stream:
        status, answer = chat(server, **body)
        assert status == 200, answer
        return answer["choices"][0]["message"], answer["choices"][0]["finish_reason"]
    content, reasoning, calls, finish = "", "", [], None
    for chunk in stream_chunks(server, **body):
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            for part in delta.get("tool_calls") or ():
                if part["index"] == len(calls):
                    calls.append({"id": part.get("id"), "type": "function",
                                  "function": {"name": part["function"].get("name"), "arguments": ""}})
                calls[part["index"]]["function"]["arguments"] += part["function"].get("arguments") or ""
            finish = choice["finish_reason"] or finish
    return {"content": content or None, "reasoning_content": reasoning or None, "tool_calls": calls or None}, finish


def book(server, **options) -> dict:
    """A whole answer in BOOK_FORMAT from the random weights, checked against the schema."""
    status, answer = chat(server, messages=BOOK, response_format=BOOK_FORMAT, max_tokens=200, **THINK_BRIEFLY,
                          **options)
    assert status == 200, answer
    jsonschema.validate(json.loads(answer["choices"][0]["message"]["content"]), BOOK_SCHEMA)
    return answer


def content(answer: dict) -> str:
    return answer["choices"][0]["message"]["content"]


# -- test_chat_completion.py ----------------------------------------------------------------
TEXT_PARTS = [{"type": "text", "text": "What is"}, {"type": "text", "text": "the best book"}]


# llama.cpp: test_chat_completion.py::test_chat_completion
@pytest.mark.parametrize(("model", "system", "user", "limit"), [
    (MODEL, "Book", "Hey", {"max_tokens": 8}),
    (MODEL, "You are a coding assistant.", "Write the fibonacci function in c++.", {"max_tokens": 128}),
    (MODEL, "Book", TEXT_PARTS, {"max_tokens": 8}),
    (MODEL, "Book", "What is the best book", {"max_completion_tokens": 8}),  # OpenAI's newer name
    pytest.param("codellama70b", "Book", "Hey", {"max_tokens": 8}, marks=pytest.mark.xfail(
        strict=True, reason="llama.cpp answers whatever model is named; Hearth answers 404 model_not_found "
                            "for a model it does not serve, as OpenAI does")),
], ids=["hey", "fibonacci-128", "text-parts", "max_completion_tokens", "other-model-name"])
def test_chat_completion(engine, tok, model, system, user, limit):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    status, answer = chat(engine, model=model, messages=messages, **limit)
    assert status == 200, answer
    assert "cmpl" in answer["id"] and answer["object"] == "chat.completion" and answer["model"] == MODEL
    (choice,) = answer["choices"]
    assert choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] == "length"
    usage = answer["usage"]
    assert usage["completion_tokens"] == next(iter(limit.values()))
    assert usage["prompt_tokens"] == len(render_chat(messages, tok, current_date="2025-06-28"))
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


# llama.cpp: test_chat_completion.py::test_chat_completion_stream (usage asked for, as OpenAI wants)
@pytest.mark.parametrize(("system", "user", "max_tokens"), [
    ("Book", "What is the best book", 8),
    ("You are a coding assistant.", "Write the fibonacci function in c++.", 128),
], ids=["book-8", "fibonacci-128"])
def test_chat_completion_stream(engine, system, user, max_tokens):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    chunks = stream_chunks(engine, messages=messages, max_tokens=max_tokens, stream_options={"include_usage": True})
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and {c["model"] for c in chunks} == {MODEL}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    first, *rest = [c["choices"][0] for c in chunks if c["choices"]]
    assert first["delta"]["role"] == "assistant" and not first["delta"].get("content")
    assert all("role" not in choice["delta"] for choice in rest)
    *middle, last = rest
    assert all(choice["finish_reason"] is None for choice in middle)
    assert last["finish_reason"] == "length" and "content" not in last["delta"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == max_tokens
    assert chunks[-1]["usage"]["prompt_tokens"] > 0


# llama.cpp: test_chat_completion.py::test_chat_completion_with_openai_library
def test_chat_completion_with_openai_library(engine):
    answer = client(engine).chat.completions.create(model=MODEL, messages=BOOK, max_tokens=8, seed=42,
                                                    temperature=0.8)
    assert answer.choices[0].finish_reason == "length"
    assert answer.choices[0].message.content is not None


def _is(value):
    return lambda text: json.loads(text) == value


# llama.cpp: test_chat_completion.py::test_completion_with_response_format (its schemas sent, as OpenAI
# takes them, in json_schema rather than inside json_object, a llama.cpp extension)
@pytest.mark.parametrize(("response_format", "check"), [
    ({"type": "json_schema", "json_schema": {"schema": {"const": "42"}}}, _is("42")),
    ({"type": "json_schema", "json_schema": {"schema": ONE_INTEGER}},
     lambda text: jsonschema.validate(json.loads(text), ONE_INTEGER) is None),
    ({"type": "json_schema", "json_schema": {"schema": {"const": "foooooo"}}}, _is("foooooo")),
    ({"type": "json_object"}, lambda text: text.lstrip().startswith("{")),
    ({"type": "sound"}, None),
    ({"type": "json_schema", "json_schema": {"schema": 123}}, None),
    ({"type": "json_schema", "json_schema": {"schema": {"type": 123}}}, None),
    ({"type": "json_schema", "json_schema": {"schema": {"type": "hiccup"}}}, None),
    ({"type": "json_object", "schema": {"const": "42"}}, _is("42")),  # llama.cpp's own spelling, honoured
    ({"type": "json_object", "schema": {"type": "hiccup"}}, None),
], ids=["const-42", "one-integer", "const-foooooo", "json_object", "sound", "schema-123", "type-123",
        "type-hiccup", "schema-inside-json_object", "bad-schema-inside-json_object"])
def test_completion_with_response_format(engine, response_format, check):
    status, answer = chat(engine, messages=CODING, response_format=response_format, max_tokens=60, seed=1,
                          **THINK_BRIEFLY)
    if check is None:
        assert status == 400 and answer["error"]["param"].startswith("response_format"), answer
    else:
        assert status == 200, answer
        assert check(content(answer)), content(answer)


# llama.cpp: test_chat_completion.py::test_completion_with_json_schema
@pytest.mark.xfail(strict=True, reason="llama.cpp's own top-level 'json_schema' field: Hearth takes a schema "
                                       "only in response_format and refuses the field with a 400 naming it")
def test_completion_with_json_schema(engine):
    status, answer = chat(engine, messages=CODING, json_schema={"const": "42"}, max_tokens=60, **THINK_BRIEFLY)
    assert status == 200
    assert json.loads(content(answer)) == "42"


# llama.cpp: test_chat_completion.py::test_invalid_chat_completion_req (sent with a model, so that the
# refusal is the messages')
@pytest.mark.parametrize("messages", [
    None, "string", [123], [{}], [{"role": 123}], [{"role": "system", "content": 123}],
    [{"role": "system", "content": "test"}, {}],
    pytest.param([{"role": "user", "content": "test"}, {"role": "assistant", "content": "test"},
                  {"role": "assistant", "content": "test"}], marks=pytest.mark.xfail(
        strict=True, reason="Hearth, like OpenAI, takes two assistant messages in a row (llama.cpp's chat "
                            "template refuses them)")),
], ids=["null", "string", "number", "empty-object", "role-number", "content-number", "second-empty",
        "two-assistants"])
def test_invalid_chat_completion_req(engine, messages):
    status, answer = chat(engine, messages=messages, max_tokens=4)
    assert status == 400, answer
    assert answer["error"]["message"] and answer["error"]["param"].startswith("messages")


# llama.cpp: test_chat_completion.py::test_logprobs (with test_completion.py::test_n_probs's exact count)
def test_logprobs(scripted):
    server, _ = scripted(HELLO)
    answer = client(server).chat.completions.create(model=MODEL, messages=BOOK, temperature=0.0, max_tokens=16,
                                                    logprobs=True, top_logprobs=10)
    entries = answer.choices[0].logprobs.content
    assert entries and "".join(entry.token for entry in entries) == answer.choices[0].message.content
    for entry in entries:
        assert entry.logprob <= 0.0 and entry.bytes is not None and len(entry.top_logprobs) == 10
        assert all(top.logprob <= 0.0 and isinstance(top.bytes, list) for top in entry.top_logprobs)


# llama.cpp: test_chat_completion.py::test_logprobs_stream
def test_logprobs_stream(scripted):
    server, _ = scripted(HELLO)
    chunks = list(client(server).chat.completions.create(model=MODEL, messages=BOOK, temperature=0.0,
                                                         max_tokens=16, logprobs=True, top_logprobs=10,
                                                         stream=True))
    first = chunks[0].choices[0]
    assert first.delta.role == "assistant" and not first.delta.content
    text = tokens = ""
    for choice in (chunk.choices[0] for chunk in chunks[1:] if chunk.choices):
        assert choice.delta.role is None
        if choice.finish_reason is None:
            text += choice.delta.content or ""
            assert choice.logprobs is not None and choice.logprobs.content is not None
            for entry in choice.logprobs.content:
                tokens += entry.token
                assert entry.logprob <= 0.0 and entry.bytes is not None and len(entry.top_logprobs) > 0
    assert text == tokens == "Hello world!"


# llama.cpp: test_chat_completion.py::test_logit_bias (on a scripted answer whose other tokens trail by 10,
# so that a ban of -100 changes what temperature 0 picks)
def test_logit_bias(tok):
    exclude = ["i", "I", "the", "The", "to", "a", "an", "be", "is", "was", "but", "But", "and", "And", "so", "So",
               "you", "You", "he", "He", "she", "She", "we", "We", "they", "They", "it", "It", "book", "Book"]
    bias = {str(token): -100 for token in tok.encode(" " + " ".join(exclude) + " ")}
    reply = "<|channel|>final<|message|>The best book is the one you love, and so it was.<|return|>"
    with running(ServedModel(MODEL, tok, ScriptedSession(tok, reply, margin=10.0))) as server:
        api = client(server)
        plain, biased = (api.chat.completions.create(model=MODEL, messages=BOOK, temperature=0.0, max_tokens=64,
                                                     **options).choices[0].message.content
                         for options in ({}, {"logit_bias": bias}))
    assert any(f" {word} " in plain for word in exclude)  # unbiased, the answer uses them
    assert biased and all(f" {word} " not in biased for word in exclude), biased


# llama.cpp: test_chat_completion.py::test_context_size_exceeded and ::test_context_size_exceeded_stream
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_context_size_exceeded(engine, stream):
    status, answer = chat(engine, messages=BOOK * 200, stream=stream)
    assert status == 400, answer
    assert answer["error"]["code"] == "context_length_exceeded" and str(CONTEXT) in answer["error"]["message"]


# llama.cpp: test_chat_completion.py::test_chat_completions_multiple_choices
@pytest.mark.xfail(strict=True, reason="Hearth writes one answer per request and refuses n > 1 with a 400")
def test_chat_completions_multiple_choices(engine):
    status, answer = chat(engine, messages=BOOK, max_tokens=8, n=2)
    assert status == 200, answer
    assert len(answer["choices"]) == 2
    assert all(c["message"]["role"] == "assistant" and c["finish_reason"] == "length" for c in answer["choices"])


# -- test_completion.py ---------------------------------------------------------------------
# llama.cpp: test_completion.py::test_completion_with_openai_library and ::test_completion_stream_with_openai_library
@pytest.mark.xfail(strict=True, reason="Hearth serves no legacy /v1/completions (404); only chat completions "
                                       "and responses")
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_completion_with_openai_library(engine, stream):
    result = client(engine).completions.create(model=MODEL, prompt="I believe the meaning of life is", max_tokens=8,
                                               stream=stream)
    if stream:
        assert "".join(c.choices[0].text for c in result if c.choices[0].finish_reason is None)
    else:
        assert result.choices[0].finish_reason == "length" and result.choices[0].text is not None


JOKE = ("<|channel|>final<|message|>Sure thing. Why did the robot cross the road?\nUser:\nTell me another.\n"
        "Assistant:\nNo.<|return|>")


# llama.cpp: test_completion.py::test_completion_stream_with_openai_library_stops (on chat completions here)
def test_completion_stream_with_openai_library_stops(scripted):
    server, _ = scripted(JOKE)
    chunks = list(client(server).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a joke."}], stop=["User:\n", "Assistant:\n"],
        max_tokens=200, stream=True))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "Sure thing. Why did the robot cross the road?\n"
    assert chunks[-1].choices[0].finish_reason == "stop"


# llama.cpp: test_completion.py::test_consistent_result_same_seed (its slot counts become temperatures)
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_consistent_result_same_seed(engine, temperature):
    answers = {content(book(engine, seed=42, temperature=temperature)) for _ in range(3)}
    assert len(answers) == 1, answers


# llama.cpp: test_completion.py::test_different_result_different_seed
def test_different_result_different_seed(engine):
    answers = [content(book(engine, seed=seed, temperature=1.0)) for seed in range(4)]
    assert all(a != b for a, b in pairwise(answers)), answers


# llama.cpp: test_completion.py::test_consistent_result_different_batch_size (the prompt computed in other
# pieces: here all of it, or all but its last token taken from the KV cache)
@pytest.mark.parametrize("cache", ["warm", "cold"])
def test_consistent_result_different_batch_size(engine, cache):
    reference = book(engine, temperature=0.0)
    if cache == "cold":
        assert chat(engine, messages=CODING, max_tokens=1)[0] == 200  # another prompt in the cache
    again = book(engine, temperature=0.0)
    assert content(again) == content(reference)
    cached, prompt = again["usage"]["prompt_tokens_details"]["cached_tokens"], again["usage"]["prompt_tokens"]
    assert cached == prompt - 1 if cache == "warm" else cached < prompt - 20


# llama.cpp: test_completion.py::test_completion_stream_vs_non_stream
def test_completion_stream_vs_non_stream(engine):
    whole = content(book(engine, temperature=0.0))
    chunks = stream_chunks(engine, messages=BOOK, response_format=BOOK_FORMAT, max_tokens=200, temperature=0.0,
                           **THINK_BRIEFLY)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == whole


# llama.cpp: test_completion.py::test_completion_prompt_cache (its timings' cache_n is OpenAI's cached_tokens)
def test_completion_prompt_cache(engine):
    previous = None
    for r, n_predict in [(0, 3), (0, 5), (3, 1), (1, 8), (1, 2), (4, 6), (0, 4)]:
        status, answer = chat(engine, messages=[{"role": "user", "content": f" Hello {r}" * (40 + r)}],
                              max_tokens=n_predict)
        assert status == 200, answer
        usage = answer["usage"]
        cached, prompt = usage["prompt_tokens_details"]["cached_tokens"], usage["prompt_tokens"]
        assert usage["completion_tokens"] == n_predict and isinstance(content(answer), str)
        assert cached == prompt - 1 if r == previous else 0 <= cached < prompt - 40
        previous = r


# -- test_basic.py and test_security.py -----------------------------------------------------
# llama.cpp: test_basic.py::test_server_models (asked at /models, as there, and at /v1/models)
@pytest.mark.parametrize("path", ["/models", "/v1/models"])
def test_server_models(engine, path):
    status, models, _ = call(engine, "GET", path)
    assert status == 200 and models["object"] == "list"
    assert len(models["data"]) == 1 and models["data"][0]["id"] == MODEL


# llama.cpp: test_security.py::test_incorrect_api_key (on /v1/chat/completions rather than /completions)
@pytest.mark.parametrize("api_key", [None, "invalid-key"])
def test_incorrect_api_key(keyed, api_key):
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    status, error, _ = call(keyed, "POST", "/v1/chat/completions", {"model": MODEL, "messages": BOOK}, headers)
    assert status == 401 and error["error"]["type"] == "authentication_error"


# llama.cpp: test_security.py::test_openai_library_correct_api_key (its base URL has no /v1)
def test_openai_library_correct_api_key(keyed):
    api = client(keyed, base_url=keyed.url.removesuffix("/v1"), api_key=KEY)
    messages = [{"role": "system", "content": "You are a chatbot."},
                {"role": "user", "content": "What is the meaning of life?"}]
    answer = api.chat.completions.create(model=MODEL, messages=messages)
    assert len(answer.choices) == 1 and answer.choices[0].message.content == "Hello world!"


# -- test_tool_call.py ----------------------------------------------------------------------
# llama.cpp: test_tool_call.py::test_completion_with_required_tool_tiny_fast
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("tool", "argument_key"), [(TEST_TOOL, "success"), (PYTHON_TOOL, "code")],
                         ids=["test", "python"])
def test_completion_with_required_tool_tiny_fast(engine, tool, argument_key, stream):
    message, finish = turn(engine, stream, messages=CODING, tools=[tool], tool_choice="required",
                           parallel_tool_calls=False, temperature=0.0, top_p=1.0, max_tokens=300, **THINK_BRIEFLY)
    assert finish == "tool_calls" and message["content"] in (None, "")
    (tool_call,) = message["tool_calls"]
    assert tool_call["id"] and tool_call["function"]["name"] == tool["function"]["name"]
    assert isinstance(tool_call["function"]["arguments"], str)
    assert argument_key in json.loads(tool_call["function"]["arguments"])


# Adapted from llama.cpp: test_tool_call.py::test_completion_with_required_tool_tiny_fast (the function
# forced by naming it in tool_choice, OpenAI's other way, instead of "required")
def test_completion_with_named_tool(engine):
    message, finish = turn(engine, False, messages=CODING, tools=[TEST_TOOL, PYTHON_TOOL], seed=3, max_tokens=300,
                           tool_choice={"type": "function", "function": {"name": "python"}}, **THINK_BRIEFLY)
    (tool_call,) = message["tool_calls"]
    assert finish == "tool_calls" and tool_call["function"]["name"] == "python"
    jsonschema.validate(json.loads(tool_call["function"]["arguments"]), PYTHON_TOOL["function"]["parameters"])


# llama.cpp: test_tool_call.py::test_completion_without_tool_call_fast
@pytest.mark.parametrize(("tools", "tool_choice"), [([], None), ([TEST_TOOL], None), ([PYTHON_TOOL], "none")],
                         ids=["no-tools", "auto", "none"])
def test_completion_without_tool_call_fast(engine, tools, tool_choice):
    message, _ = turn(engine, False, messages=HELLO_PYTHON, tools=tools or None, tool_choice=tool_choice,
                      max_tokens=32)
    assert message.get("tool_calls") is None


# llama.cpp: test_tool_call.py::test_weather
def test_weather(scripted):
    server, _ = scripted('<|channel|>commentary to=functions.get_current_weather <|constrain|>json<|message|>'
                         '{"location": "Istanbul, Turkey"}<|call|>')
    message, finish = turn(server, False, messages=[
        {"role": "system", "content": "You are a chatbot that uses tools/functions. Dont overthink things."},
        {"role": "user", "content": "What is the weather in Istanbul?"}], tools=[WEATHER_TOOL], max_tokens=512)
    (tool_call,) = message["tool_calls"]
    assert finish == "tool_calls" and tool_call["function"]["name"] == "get_current_weather"
    location = json.loads(tool_call["function"]["arguments"])["location"]
    assert re.match("^Istanbul(( |, ?)(TR|Turkey|Türkiye))?$", location), location


CALCULATE_TOOL = function_tool("calculate", "A calculator of Python arithmetic expressions",
                               {"expression": {"type": "string"}})


# llama.cpp: test_tool_call.py::test_calc_result
def test_calc_result(scripted, tok):
    server, session = scripted("<|channel|>final<|message|>The y coordinate is 0.56.<|return|>")
    message, _ = turn(server, False, max_tokens=128, tools=[CALCULATE_TOOL], messages=[
        {"role": "system", "content": "You are a tools-calling assistant. You express numerical values with at "
                                      "most two decimals."},
        {"role": "user", "content": "What's the y coordinate of a point on the unit sphere at angle 30 degrees?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_6789", "type": "function", "function": {
            "name": "calculate", "arguments": '{"expression":"sin(30 * pi / 180)"}'}}]},
        {"role": "tool", "name": "calculate", "content": "0.55644242476", "tool_call_id": "call_6789"}])
    assert message.get("tool_calls") is None
    assert re.match(r"^[\s\S]*?((That's|\bis) (approximately )?)?\b0\.(5\b|56\b|556)", message["content"])
    assert "0.55644242476" in tok.decode(session.prompts[-1])  # the tool's result reached the model


THOUGHTFUL = ("<|channel|>analysis<|message|>I need to calculate the sum of 102 and 7.<|end|>"
              "<|start|>assistant<|channel|>final<|message|>The sum of 102 and 7 is 109.<|return|>")


# llama.cpp: test_tool_call.py::test_thoughts
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_thoughts(scripted, stream):
    server, _ = scripted(THOUGHTFUL)
    message, _ = turn(server, stream, messages=[{"role": "user", "content": "What's the sum of 102 and 7?"}],
                      max_tokens=128)
    assert message.get("tool_calls") is None
    assert re.match("^The sum of 102 and 7 is 109", message["content"])
    assert re.match("I need to calculate the sum of 102 and 7", message["reasoning_content"])


# llama.cpp: test_tool_call.py::test_hello_world (a function named "python", as harmony's built-in tool is)
def test_hello_world(scripted):
    server, _ = scripted("<|channel|>commentary to=functions.python <|constrain|>json<|message|>"
                         '{"code": "print(\'Hello, World!\')"}<|call|>')
    message, _ = turn(server, False, messages=[{"role": "system", "content": "You are a tool-calling agent."},
                                               {"role": "user", "content": "say hello world with python"}],
                      tools=[PYTHON_TOOL], max_tokens=512)
    (tool_call,) = message["tool_calls"]
    assert tool_call["function"]["name"] == "python"
    code = json.loads(tool_call["function"]["arguments"])["code"]
    assert re.match(r"""print\(("[Hh]ello,? [Ww]orld!?"|'[Hh]ello,? [Ww]orld!?')\)""", code), code


# llama.cpp: test_tool_call.py::test_required_tool_with_reasoning
def test_required_tool_with_reasoning(scripted):
    server, _ = scripted("<|channel|>analysis<|message|>An example calls for the test tool.<|end|>"
                         "<|start|>assistant<|channel|>commentary to=functions.test <|constrain|>json<|message|>"
                         '{"success": true}<|call|>')
    message, _ = turn(server, False, messages=CODING, tools=[TEST_TOOL], tool_choice="required",
                      parallel_tool_calls=False, temperature=0.0, top_p=1.0, max_tokens=512)
    assert message["reasoning_content"] and len(message["reasoning_content"].strip()) > 3
    (tool_call,) = message["tool_calls"]
    assert tool_call["function"]["name"] == "test" and "success" in json.loads(tool_call["function"]["arguments"])
