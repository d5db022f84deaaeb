"""Structured answers: the turn grammar, the strict rules, refused schemas, and the mask at
work on a random-weight model, where nothing but the constraint can make the output valid."""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch

from core import load_model
from core.chat.answer import Answer
from core.chat.generate import GenerationSettings, generate
from core.chat.harmony import render_chat
from core.chat.structured import Function, JsonFormat, Structure, TokenMask, check_strict, check_structure
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.engine.sampling import SamplingParams
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import InvalidInput

PERSON = {"type": "object", "additionalProperties": False, "required": ["name", "age", "tags", "kind"],
          "properties": {"name": {"type": "string", "maxLength": 12},
                         "age": {"type": "integer", "minimum": 0, "maximum": 130},
                         "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 2},
                         "kind": {"enum": ["cat", "dog"]}}}
WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
                                            "days": {"type": "integer", "minimum": 1, "maximum": 7}},
           "required": ["city", "days"], "additionalProperties": False}
CHAT = [{"role": "user", "content": "Describe a pet as JSON."}]


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    folder = write_checkpoint(tmp_path_factory.mktemp("random"), tiny_config(vocab_size=201088), seed=3)
    return load_model(folder, dtype=torch.float32)


def answer(model, tok, structure, seed, temperature, max_new_tokens=400):
    settings = GenerationSettings(SamplingParams(temperature=temperature, seed=seed), max_new_tokens=max_new_tokens,
                                  reasoning_budget=8, structure=structure)
    return Answer.of(generate(model.new_session(2048), tok, CHAT, settings=settings, current_date="2025-06-28",
                              tools=[{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]))


@pytest.mark.parametrize(("seed", "temperature"), [(0, 1.0), (1, 1.0), (2, 0.7), (3, 1.5), (4, 0.0)])
def test_a_random_model_answers_valid_json_for_a_schema(random_model, tok, seed, temperature):
    result = answer(random_model, tok, Structure(JsonFormat(PERSON, name="pet")), seed, temperature)
    assert result.finished.reason == "stop", result.finished
    jsonschema.validate(json.loads(result.content), PERSON)
    assert not result.calls


@pytest.mark.parametrize("seed", [5, 6])
def test_json_object_answers_parse_as_an_object(random_model, tok, seed):
    result = answer(random_model, tok, Structure(JsonFormat(None, name="json_object")), seed, 1.0, 600)
    # Without a schema an object may run long; when it finished it is one JSON object.
    assert result.finished.reason in ("stop", "length")
    if result.finished.reason == "stop":
        assert isinstance(json.loads(result.content), dict)
    else:
        assert result.content.startswith("{")


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_a_named_function_gets_a_call_with_valid_arguments(random_model, tok, seed):
    result = answer(random_model, tok, Structure(functions=(Function("get_weather", WEATHER),)), seed, 1.0)
    (call,) = result.calls
    assert call.name == "get_weather" and result.finish_reason == "tool_calls"
    jsonschema.validate(json.loads(call.arguments), WEATHER)
    assert not result.content


def test_a_length_cut_leaves_the_json_visibly_incomplete(random_model, tok):
    result = answer(random_model, tok, Structure(JsonFormat(PERSON)), 0, 1.0, max_new_tokens=14)
    assert result.finished.reason == "length" and result.finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.content)


def test_the_grammar_keeps_control_tokens_out_of_json_and_the_turn_open(tok):
    mask = TokenMask(Structure(JsonFormat({"type": "object", "properties": {"a": {"type": "string"}}})), tok)
    logits = torch.zeros(tok.n_vocab)
    assert torch.isfinite(mask.restrict(logits)).nonzero().flatten().tolist() == [tok.channel]
    for token in [tok.channel, *tok.encode("final"), tok.message, *tok.encode('{"a": "x')]:
        mask.accept(token)
    inside_string = mask.restrict(logits)
    for control in (tok.end, tok.call, tok.return_, tok.start, tok.channel):
        assert inside_string[control] == float("-inf")
    for token in tok.encode('"}'):
        mask.accept(token)
    finished = torch.isfinite(mask.restrict(logits)).nonzero().flatten().tolist()
    assert finished == [tok.return_]
    early = TokenMask(Structure(JsonFormat(None)), tok)
    for token in [tok.channel, *tok.encode("final"), tok.message, *tok.encode('{"a": 1')]:
        early.accept(token)
    with pytest.raises(InvalidInput, match="left its required format"):
        early.accept(tok.return_)  # the turn cannot end inside the answer


def test_thinking_is_free_text_but_must_end_with_end(tok):
    mask = TokenMask(Structure(JsonFormat(None)), tok)
    for token in [tok.channel, *tok.encode("analysis"), tok.message, *tok.encode("Any text { at all ]")]:
        mask.accept(token)
    allowed = torch.isfinite(mask.restrict(torch.zeros(tok.n_vocab)))
    assert allowed[tok.encode(" hello")[0]] and allowed[tok.end]
    assert not allowed[tok.return_] and not allowed[tok.call]


@pytest.mark.parametrize(("schema", "named"), [
    ({"type": "object", "not": {"type": "string"}}, '"not"'),
    ({"type": "object", "if": {"required": ["a"]}, "then": {}}, '"if"'),
    ({"type": "string", "pattern": "(?<=a)b"}, "look-around"),
    ({"type": "string", "format": "no-such-format"}, "no-such-format"),
])
def test_a_schema_the_engine_cannot_enforce_is_refused_by_name(schema, named):
    with pytest.raises(InvalidInput, match="cannot be enforced") as refused:
        check_structure(Structure(JsonFormat(schema)))
    assert named in str(refused.value)


def test_strict_means_every_property_required_and_nothing_else():
    check_strict(WEATHER)
    with pytest.raises(InvalidInput, match=r"schema\.required.*missing: days"):
        check_strict({**WEATHER, "required": ["city"]})
    with pytest.raises(InvalidInput, match=r"schema\.additionalProperties must be false"):
        check_strict({k: v for k, v in WEATHER.items() if k != "additionalProperties"})
    nested = {**PERSON, "properties": {**PERSON["properties"], "owner": {"type": "object", "properties": {"n": {}}}},
              "required": [*PERSON["required"], "owner"]}
    with pytest.raises(InvalidInput, match=r"schema\.properties\.owner\.required"):
        check_strict(nested)


def test_the_schema_reaches_the_model_in_the_developer_message(tok):
    format_ = JsonFormat(WEATHER, name="forecast", description="A forecast request.")
    text = tok.decode(render_chat(CHAT, tok, response_format=format_, current_date="2025-06-28"))
    section = ("<|start|>developer<|message|># Response Formats\n\n## forecast\n\n// A forecast request.\n"
               + json.dumps(WEATHER, separators=(",", ":")) + "<|end|>")
    assert section in text


def follow(mask: TokenMask, tok, text: str) -> None:
    for token in tok.encode(text, allow_special=True):
        mask.accept(token)


@pytest.mark.parametrize("call", [
    '<|channel|>analysis to=browser.search code<|message|>{"query": "pump"}<|call|>',
    ' to=browser.open<|channel|>analysis code<|message|>{"id": 0}<|call|>',  # the recipient in the role part
    "<|channel|>analysis to=python<|message|>print(6*7)<|call|>",
])
def test_offered_builtins_stay_callable_on_the_way_to_a_json_answer(tok, call):
    mask = TokenMask(Structure(JsonFormat(PERSON), builtins=("browser", "python")), tok)
    follow(mask, tok, "<|channel|>analysis<|message|>Look it up first.<|end|><|start|>assistant")
    follow(mask, tok, call)
    assert mask.complete


def test_a_builtin_not_offered_is_refused_by_the_grammar(tok):
    mask = TokenMask(Structure(JsonFormat(PERSON), builtins=("browser",)), tok)
    with pytest.raises(InvalidInput, match="left its required format"):
        follow(mask, tok, "<|channel|>analysis to=python code<|message|>print(1)<|call|>")
    without = TokenMask(Structure(JsonFormat(PERSON)), tok)  # no built-in offered: only the answer
    with pytest.raises(InvalidInput, match="left its required format"):
        follow(without, tok, '<|channel|>analysis to=browser.search code<|message|>{"query": "x"}<|call|>')
