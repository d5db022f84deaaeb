"""Rendering chats into harmony prompt tokens: exact sequences for hand-written conversations,
checked token for token against the reference renderer `openai-harmony` (run offline on the
shipped vocabulary). Built-in tools: test_builtin_tools.py."""

from __future__ import annotations

import datetime

import pytest

from core.chat.harmony import drop_oldest_turn, render_chat
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.errors import InvalidInput
from tests.core.chat.harmony_oracle import DATE, load_oracle, oracle_tokens

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Gets the current weather in the provided location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            },
            "required": ["location"],
        },
    },
}

# Every schema construct the renderer handles, for the token-for-token comparison.
KITCHEN_SINK = {
    "type": "function",
    "function": {
        "name": "plan_trip",
        "description": "Plans a trip.\nSecond line of the description.",
        "parameters": {
            "type": "object",
            "description": "Trip request",
            "properties": {
                "days": {"type": "integer", "description": "How long", "default": 3},
                "budget": {"type": "number", "nullable": True},
                "pets": {"type": "boolean", "default": False},
                "cities": {"type": "array", "items": {"type": "string"}, "examples": ["Paris", "Rome"]},
                "anything": {"type": "array"},
                "mode": {"type": "string", "default": "train", "title": "Travel mode"},
                "id": {"type": ["string", "integer"]},
                "stops": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "nights": {"type": "integer"}},
                        "required": ["name"],
                    },
                },
                "when": {
                    "description": "Start date or offset",
                    "oneOf": [
                        {"type": "string", "description": "ISO date"},
                        {"type": "integer", "description": "Days from now", "default": 7},
                    ],
                },
                "extra": {"description": "free form"},
            },
            "required": ["days", "cities"],
        },
    },
}

NO_PARAMETERS = {"type": "function", "function": {"name": "get_time"}}


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture(scope="module")
def oracle():
    return load_oracle()


def test_single_question_exact_tokens(tok, oracle):
    ids = render_chat([{"role": "user", "content": "Hi!"}], tok, current_date=DATE)
    system = (
        "You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n"
        f"Current date: {DATE}\n\nReasoning: medium\n\n"
        "# Valid channels: analysis, commentary, final. Channel must be included for every message."
    )
    expected = [tok.start, *tok.encode("system"), tok.message, *tok.encode(system), tok.end,
                tok.start, *tok.encode("user"), tok.message, *tok.encode("Hi!"), tok.end,
                tok.start, *tok.encode("assistant")]
    assert ids == expected
    assert ids == oracle_tokens(oracle, [("user", "Hi!", None, None, None)])


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_system_prompt_and_effort(tok, oracle, effort):
    chat = [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bonjour"}]
    ids = render_chat(chat, tok, reasoning_effort=effort, current_date=datetime.date(2025, 6, 28))
    assert ids == oracle_tokens(oracle, [("user", "Bonjour", None, None, None)], effort=effort,
                                instructions="Answer in French.")
    assert f"Reasoning: {effort}" in tok.decode(ids)


def test_tool_call_and_result(tok, oracle):
    chat = [
        {"role": "system", "content": "Always respond in riddles"},
        {"role": "user", "content": "What is the weather in Tokyo?"},
        {"role": "assistant", "reasoning": "Need to use function get_current_weather.",
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "get_current_weather", "arguments": '{"location": "Tokyo"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{ "temperature": 20, "sunny": true }'},
    ]
    ids = render_chat(chat, tok, reasoning_effort="low", tools=[WEATHER], current_date=DATE)
    expected = oracle_tokens(oracle, [
        ("user", "What is the weather in Tokyo?", None, None, None),
        # The current turn is unfinished, so its reasoning stays in the prompt.
        ("assistant", "Need to use function get_current_weather.", "analysis", None, None),
        ("assistant", '{"location": "Tokyo"}', "commentary", "functions.get_current_weather", "<|constrain|>json"),
        ("functions.get_current_weather", '{ "temperature": 20, "sunny": true }', "commentary", "assistant",
         None),
    ], effort="low", instructions="Always respond in riddles", tools=[WEATHER])
    assert ids == expected
    text = tok.decode(ids)
    assert "Calls to these tools must go to the commentary channel: 'functions'." in text
    assert "<|start|>assistant to=functions.get_current_weather<|channel|>commentary <|constrain|>json" \
           "<|message|>{\"location\": \"Tokyo\"}<|call|>" in text


def test_every_schema_construct_matches_reference(tok, oracle):
    chat = [{"role": "user", "content": "Plan it"}]
    tools = [WEATHER, KITCHEN_SINK, NO_PARAMETERS]
    ids = render_chat(chat, tok, tools=tools, current_date=DATE)
    assert ids == oracle_tokens(oracle, [("user", "Plan it", None, None, None)], tools=tools)


def test_finished_turns_lose_their_reasoning(tok, oracle):
    chat = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "reasoning": "Simple sum.", "content": "4"},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "reasoning": "Call the tool.", "tool_calls": [
            {"id": "a", "function": {"name": "get_current_weather", "arguments": {"location": "Oslo"}}}]},
        {"role": "tool", "name": "get_current_weather", "content": {"sky": "rain"}},
        {"role": "assistant", "reasoning": "It rains.", "content": "Rain, bring a coat."},
        {"role": "user", "content": "Thanks"},
    ]
    ids = render_chat(chat, tok, tools=[WEATHER], current_date=DATE)
    assert ids == oracle_tokens(oracle, [
        ("user", "2+2?", None, None, None),
        ("assistant", "4", "final", None, None),
        ("user", "Weather in Oslo?", None, None, None),
        ("assistant", '{"location": "Oslo"}', "commentary", "functions.get_current_weather", "<|constrain|>json"),
        ("functions.get_current_weather", '{"sky": "rain"}', "commentary", "assistant", None),
        ("assistant", "Rain, bring a coat.", "final", None, None),
        ("user", "Thanks", None, None, None),
    ], tools=[WEATHER])
    assert "Simple sum." not in tok.decode(ids) and "It rains." not in tok.decode(ids)


def test_preamble_beside_tool_calls_goes_to_commentary(tok, oracle):
    chat = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "a", "function": {"name": "get_current_weather", "arguments": "{}"}}]},
    ]
    ids = render_chat(chat, tok, tools=[WEATHER], current_date=DATE)
    assert ids == oracle_tokens(oracle, [
        ("user", "Weather?", None, None, None),
        ("assistant", "Let me check.", "commentary", None, None),
        ("assistant", "{}", "commentary", "functions.get_current_weather", "<|constrain|>json"),
    ], tools=[WEATHER])


def test_text_parts_and_special_strings_stay_text(tok):
    chat = [{"role": "user", "content": [{"type": "text", "text": "a <|end|>"}, {"type": "text", "text": " b"}]}]
    ids = render_chat(chat, tok, current_date=DATE)
    expected_end = [tok.start, *tok.encode("user"), tok.message, *tok.encode("a <|end|> b"), tok.end,
                    tok.start, *tok.encode("assistant")]
    assert ids[-len(expected_end):] == expected_end
    assert ids.count(tok.end) == 2  # the system message's and the user's only


def test_date_defaults_to_today(tok):
    text = tok.decode(render_chat([{"role": "user", "content": "x"}], tok))
    assert f"Current date: {datetime.date.today().isoformat()}" in text


@pytest.mark.parametrize(
    ("kwargs", "messages", "match"),
    [
        ({"reasoning_effort": "extreme"}, [{"role": "user", "content": "x"}], "low, medium or high"),
        ({}, [{"role": "robot", "content": "x"}], "role 'robot'"),
        ({}, [{"role": "tool", "content": "x"}], "which tool call"),
        ({}, [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}], "Only text"),
        ({}, [{"role": "assistant", "tool_calls": [{"function": {}}]}], "no function name"),
        ({"tools": [{"type": "retrieval"}]}, [{"role": "user", "content": "x"}], "not a function"),
    ],
)
def test_invalid_input_is_explained(tok, kwargs, messages, match):
    with pytest.raises(InvalidInput, match=match):
        render_chat(messages, tok, **kwargs)


def test_drop_oldest_turn_keeps_instructions():
    chat = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"}, {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "u3"},
    ]
    once = drop_oldest_turn(chat)
    assert [m["content"] for m in once] == ["S", "u2", "a2", "u3"]
    assert [m["content"] for m in drop_oldest_turn(once)] == ["S", "u3"]
    assert drop_oldest_turn(drop_oldest_turn(once)) is None


@pytest.mark.parametrize("key", ["reasoning", "reasoning_content", "thinking"])
def test_reasoning_key_aliases(tok, key):
    chat = [{"role": "user", "content": "Weather?"},
            {"role": "assistant", key: "Check it.", "tool_calls": [
                {"id": "a", "function": {"name": "get_current_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "a", "content": "sun"}]
    text = tok.decode(render_chat(chat, tok, tools=[WEATHER], current_date=DATE))
    assert "<|start|>assistant<|channel|>analysis<|message|>Check it.<|end|>" in text


@pytest.mark.parametrize("content", ["", " ", "\n\nline\n", "emoji 🧠 and 東京", "<|start|>fake<|end|>",
                                     "a" * 3000, "tab\tand  double  spaces  "])
def test_awkward_text_matches_reference(tok, oracle, content):
    chat = [{"role": "system", "content": content}, {"role": "user", "content": content},
            {"role": "assistant", "content": content + "!"}, {"role": "user", "content": "ok"}]
    ids = render_chat(chat, tok, current_date=DATE)
    assert ids == oracle_tokens(oracle, [("user", content, None, None, None),
                                         ("assistant", content + "!", "final", None, None),
                                         ("user", "ok", None, None, None)],
                                instructions=content or None)
