"""Structured outputs, tool_choice and logprobs through the official `openai` client, on a
random-weight model (nothing but the constraint can make its output valid) and a scripted one."""

from __future__ import annotations

import json
from typing import Literal

import jsonschema
import openai
import pydantic
import pytest
import torch

from core import load_model
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.engine.testing import tiny_config, write_checkpoint
from core.server.http import ServedModel
from tests.core.server.api_fixtures import ScriptedSession, running

CHAT = [{"role": "user", "content": "Describe a pet."}]
PET = {"type": "object", "additionalProperties": False, "required": ["name", "legs", "kind"],
       "properties": {"name": {"type": "string", "maxLength": 10},
                      "legs": {"type": "integer", "minimum": 0, "maximum": 8},
                      "kind": {"enum": ["cat", "dog", "bird"]}}}
WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10}},
           "required": ["city"], "additionalProperties": False}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
         {"type": "function", "function": {"name": "get_time", "parameters": {
             "type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"]}}}]
THINK_BRIEFLY = {"reasoning": {"max_tokens": 6}}


class Pet(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=10)
    legs: int = pydantic.Field(ge=0, le=8)
    kind: Literal["cat", "dog", "bird"]


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    folder = write_checkpoint(tmp_path_factory.mktemp("random"), tiny_config(vocab_size=201088), seed=11)
    return load_model(folder, dtype=torch.float32)


@pytest.fixture
def api(random_model, tok):
    with running(ServedModel("gpt-oss-20b", tok, random_model.new_session(2048))) as server:
        yield openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0)


@pytest.mark.parametrize(("seed", "temperature"), [(1, 1.0), (2, 0.5), (3, 1.3)])
def test_json_schema_answers_validate(api, seed, temperature):
    answer = api.chat.completions.create(
        model="gpt-oss-20b", messages=CHAT, seed=seed, temperature=temperature, max_tokens=300,
        extra_body=THINK_BRIEFLY,
        response_format={"type": "json_schema", "json_schema": {"name": "pet", "schema": PET, "strict": True}})
    assert answer.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(answer.choices[0].message.content), PET)


def test_json_schema_streamed_and_through_the_sdks_parse_helper(api):
    chunks = list(api.chat.completions.create(
        model="gpt-oss-20b", messages=CHAT, seed=4, max_tokens=300, stream=True, extra_body=THINK_BRIEFLY,
        response_format={"type": "json_schema", "json_schema": {"name": "pet", "schema": PET}}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    jsonschema.validate(json.loads(text), PET)
    # The SDK turns a pydantic model into a strict schema and parses the answer back into it.
    parsed = api.chat.completions.parse(model="gpt-oss-20b", messages=CHAT, seed=5, max_tokens=300,
                                        response_format=Pet, extra_body=THINK_BRIEFLY)
    assert isinstance(parsed.choices[0].message.parsed, Pet)


def test_responses_text_format_json_schema(api):
    response = api.responses.create(model="gpt-oss-20b", input="Describe a pet.", max_output_tokens=300,
                                    reasoning={"max_tokens": 6},
                                    text={"format": {"type": "json_schema", "name": "pet", "schema": PET}})
    assert response.status == "completed"
    jsonschema.validate(json.loads(response.output_text), PET)


@pytest.mark.parametrize("seed", [6, 7])
def test_a_named_tool_choice_gives_a_valid_call_to_that_function(api, seed):
    answer = api.chat.completions.create(
        model="gpt-oss-20b", messages=CHAT, seed=seed, max_tokens=300, tools=TOOLS, extra_body=THINK_BRIEFLY,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER)


def test_tool_choice_required_gives_a_call_to_one_of_the_tools(api):
    answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, seed=8, max_tokens=300, tools=TOOLS,
                                         tool_choice="required", parallel_tool_calls=False, extra_body=THINK_BRIEFLY)
    (call,) = answer.choices[0].message.tool_calls
    schema = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}[call.function.name]
    jsonschema.validate(json.loads(call.function.arguments), schema)


def test_a_cut_answer_says_length(api):
    answer = api.chat.completions.create(
        model="gpt-oss-20b", messages=CHAT, seed=1, max_tokens=12,
        response_format={"type": "json_schema", "json_schema": {"name": "pet", "schema": PET}})
    assert answer.choices[0].finish_reason == "length"


@pytest.mark.parametrize(("response_format", "named"), [
    ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "not": {}}}}, '"not"'),
    ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "(?=a)"}}},
     "look-around"),
    ({"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}}}}, "required must list every property"),
    ({"type": "json_schema", "json_schema": {"name": "x"}}, "schema' is required"),
    ({"type": "xml"}, "text, json_object or json_schema"),
])
def test_formats_that_cannot_be_enforced_are_refused_by_name(api, response_format, named):
    with pytest.raises(openai.BadRequestError, match=named) as refused:
        api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, response_format=response_format)
    assert refused.value.body["param"].startswith("response_format")


def test_tool_choice_naming_an_absent_function_is_refused(api):
    with pytest.raises(openai.BadRequestError, match="not among 'tools'"):
        api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, tools=TOOLS,
                                    tool_choice={"type": "function", "function": {"name": "launch"}})
    with pytest.raises(openai.BadRequestError, match="at least one tool"):
        api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, tool_choice="required")


def test_logprobs_whole_and_streamed(tok):
    reply = ("<|channel|>analysis<|message|>Think.<|end|>"
             "<|start|>assistant<|channel|>final<|message|>Hello world!<|return|>")
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, reply))) as server:
        api = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0, logprobs=True,
                                             top_logprobs=3)
        chunks = list(api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0,
                                                  logprobs=True, stream=True))
        plain = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0)
    entries = answer.choices[0].logprobs.content
    # One entry per token of the answer itself (not the reasoning, not the control tokens).
    assert "".join(e.token for e in entries) == "Hello world!" == answer.choices[0].message.content
    assert [e.token for e in entries] == [tok.decode([t]) for t in tok.encode("Hello world!")]
    for entry in entries:
        assert entry.logprob == pytest.approx(0.0, abs=1e-3)  # the scripted model is sure of each token
        assert len(entry.top_logprobs) == 3 and entry.top_logprobs[0].token == entry.token
        assert bytes(entry.bytes).decode() == entry.token
    streamed = [e for c in chunks if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert "".join(e.token for e in streamed) == "Hello world!"
    assert all(e.top_logprobs == [] for e in streamed)
    assert plain.choices[0].logprobs is None


def test_logit_bias_bans_and_forces_tokens(tok):
    reply = "<|channel|>final<|message|>Hello world!<|return|>"
    hello = tok.encode("Hello")[0]
    hi = tok.encode("Hi")[0]
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, reply, margin=10.0))) as server:
        api = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0)
        plain = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0, max_tokens=4)
        banned = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0, max_tokens=4,
                                             logit_bias={str(hello): -100, str(hi): 5})
        with pytest.raises(openai.BadRequestError, match="not a token id"):
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, logit_bias={"hello": 5})
        with pytest.raises(openai.BadRequestError, match="from -100 to 100"):
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, logit_bias={"12": 500})
    # Scripted tokens lead the rest by 10: "Hi" (+5) wins only where "Hello" (-100) is banned.
    assert plain.choices[0].message.content.startswith("Hello")
    assert banned.choices[0].message.content.startswith("Hi") and "Hello" not in banned.choices[0].message.content


def test_other_servers_constraint_fields_are_refused_not_ignored(api):
    for field in ("json_schema", "grammar", "guided_json"):
        with pytest.raises(openai.BadRequestError, match="response_format") as refused:
            api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, extra_body={field: {"const": "42"}})
        assert refused.value.body["param"] == field


def test_json_object_lets_a_model_that_writes_json_say_it_unchanged(tok):
    # Random weights rarely close a free-length string, so a finished json_object answer is shown
    # with a model that writes one: the constraint must let it through token for token.
    reply = '<|channel|>final<|message|>{"pet": "cat", "legs": 4, "tags": ["calm", "small"]}<|return|>'
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, reply, margin=10.0))) as server:
        api = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0)
        answer = api.chat.completions.create(model="gpt-oss-20b", messages=CHAT, temperature=0,
                                             response_format={"type": "json_object"})
    assert answer.choices[0].finish_reason == "stop"
    assert json.loads(answer.choices[0].message.content) == {"pet": "cat", "legs": 4, "tags": ["calm", "small"]}
