"""The built-in tools in harmony: their declaration in the system message, built-in calls and
results in the history, checked token for token against the reference renderer `openai-harmony`;
and the small helpers of core/chat/builtin_tools.py."""

from __future__ import annotations

import datetime

import pytest

from core.chat.builtin_tools import builtin_namespace, is_offered, offered_builtins, unavailable_tool_result
from core.chat.harmony import render_chat
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.errors import InvalidInput
from tests.core.chat.harmony_oracle import DATE, load_oracle, oracle_tokens

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Gets the current weather in the provided location.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}
PYTHON_FUNCTION = {"type": "function", "function": {"name": "python", "description": "Runs a script.",
                                                    "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture(scope="module")
def oracle():
    return load_oracle()


def call(id_, name, arguments):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("builtins", [("browser",), ("python",), ("browser", "python"), ("python", "browser")])
@pytest.mark.parametrize(("effort", "instructions", "tools"), [
    ("medium", None, ()), ("low", "Answer briefly.", ()), ("high", None, (WEATHER,)),
    ("medium", "Answer briefly.", (WEATHER,)),
])
def test_declarations_match_reference(tok, oracle, builtins, effort, instructions, tools):
    chat = [{"role": "system", "content": instructions}] if instructions else []
    chat.append({"role": "user", "content": "Hi"})
    ids = render_chat(chat, tok, reasoning_effort=effort, tools=list(tools), current_date=datetime.date(2025, 6, 28),
                      builtin_tools=builtins)
    assert ids == oracle_tokens(oracle, [("user", "Hi", None, None, None)], effort=effort,
                                instructions=instructions, tools=tools, builtins=builtins)
    text = tok.decode(ids)
    assert text.count("# Tools") == 1 + bool(tools)
    assert ("## browser" in text) == ("browser" in builtins) and ("## python" in text) == ("python" in builtins)
    assert ("commentary channel: 'functions'" in text) == bool(tools)


# One turn still in progress: search, open, then python, each with the reasoning before it.
SEARCH = '{"query": "Eiffel Tower completed", "topn": 5}'
RESULTS = "[0] Eiffel Tower - encyclopedia (local)\n【1†Eiffel Tower†docs/eiffel.md】 L0: completed in 1889."
PAGE = "[2] docs/eiffel.md\nL0: The tower was completed on 31 March 1889."
CODE = "import datetime\nprint(datetime.date(2025, 6, 28).year - 1889)"
IN_PROGRESS = [
    {"role": "user", "content": "How old is the Eiffel Tower?"},
    {"role": "assistant", "reasoning": "Search the documents.", "tool_calls": [call("s", "browser.search", SEARCH)]},
    {"role": "tool", "tool_call_id": "s", "content": RESULTS},
    {"role": "assistant", "reasoning": "Open the first hit.",
     "tool_calls": [call("o", "browser.open", {"id": 1, "cursor": 0})]},
    {"role": "tool", "name": "browser.open", "content": PAGE},
    {"role": "assistant", "reasoning": "Compute the age.", "tool_calls": [call("p", "python", CODE)]},
    {"role": "tool", "tool_call_id": "p", "content": "136\n"},
]
IN_PROGRESS_HARMONY = [
    ("user", "How old is the Eiffel Tower?", None, None, None),
    ("assistant", "Search the documents.", "analysis", None, None),
    ("assistant", SEARCH, "analysis", "browser.search", "code"),
    ("browser.search", RESULTS, "analysis", "assistant", None),
    ("assistant", "Open the first hit.", "analysis", None, None),
    ("assistant", '{"id": 1, "cursor": 0}', "analysis", "browser.open", "code"),
    ("browser.open", PAGE, "analysis", "assistant", None),
    ("assistant", "Compute the age.", "analysis", None, None),
    ("assistant", CODE, "analysis", "python", "code"),
    ("python", "136\n", "analysis", "assistant", None),
]


def test_a_turn_in_progress_keeps_its_calls_results_and_reasoning(tok, oracle):
    ids = render_chat(IN_PROGRESS, tok, current_date=DATE, builtin_tools=("browser", "python"))
    assert ids == oracle_tokens(oracle, IN_PROGRESS_HARMONY, builtins=("browser", "python"))
    text = tok.decode(ids)
    assert f"<|start|>assistant to=browser.search<|channel|>analysis code<|message|>{SEARCH}<|call|>" \
           f"<|start|>browser.search to=assistant<|channel|>analysis<|message|>{RESULTS}<|end|>" in text
    assert f"<|start|>assistant to=python<|channel|>analysis code<|message|>{CODE}<|call|>" \
           "<|start|>python to=assistant<|channel|>analysis<|message|>136\n<|end|>" in text


def test_a_finished_turn_drops_its_analysis_but_keeps_function_calls(tok, oracle):
    weather = [{"role": "assistant", "content": "Checking the weather too.",
                "tool_calls": [call("w", "get_current_weather", '{"location": "Paris"}')]},
               {"role": "tool", "tool_call_id": "w", "content": "sunny"}]
    answer = {"role": "assistant", "reasoning": "136 years; sunny.",
              "content": "136 years old 【2†L0】, and sunny today."}
    chat = [*IN_PROGRESS, *weather, answer, {"role": "user", "content": "Thanks"}]
    ids = render_chat(chat, tok, tools=[WEATHER], current_date=DATE, builtin_tools=("browser", "python"))
    weather_harmony = [
        ("assistant", "Checking the weather too.", "commentary", None, None),
        ("assistant", '{"location": "Paris"}', "commentary", "functions.get_current_weather", "<|constrain|>json"),
        ("functions.get_current_weather", "sunny", "commentary", "assistant", None),
    ]
    whole_turn = [*IN_PROGRESS_HARMONY, *weather_harmony,
                  ("assistant", "136 years; sunny.", "analysis", None, None),
                  ("assistant", answer["content"], "final", None, None), ("user", "Thanks", None, None, None)]
    # harmony's own rule (drop the analysis channel before the final answer) gives the same prompt.
    assert ids == oracle_tokens(oracle, whole_turn, tools=[WEATHER], builtins=("browser", "python"),
                                drop_analysis=True)
    history = tok.decode(ids).split("<|end|>", 1)[1]  # after the system message
    assert "browser." not in history and "python" not in history and "Compute the age." not in history
    assert "to=functions.get_current_weather" in history


def test_a_call_to_a_builtin_that_was_not_offered_is_answered_not_refused(tok, oracle):
    refusal = unavailable_tool_result("browser.search")
    chat = [{"role": "user", "content": "Search my files"},
            {"role": "assistant", "reasoning": "Search.", "tool_calls": [call("s", "browser.search", SEARCH)]},
            {"role": "tool", "tool_call_id": "s", "content": refusal}]
    ids = render_chat(chat, tok, current_date=DATE)
    assert ids == oracle_tokens(oracle, [
        ("user", "Search my files", None, None, None), ("assistant", "Search.", "analysis", None, None),
        ("assistant", SEARCH, "analysis", "browser.search", "code"),
        ("browser.search", refusal, "analysis", "assistant", None),
    ])
    assert "# Tools" not in tok.decode(ids)


@pytest.mark.parametrize(("builtins", "expected"), [
    ((), ("assistant", "print(1)", "commentary", "functions.python", "<|constrain|>json")),
    (("python",), ("assistant", "print(1)", "analysis", "python", "code")),
])
def test_a_function_named_python_is_called_unless_the_builtin_is_offered(tok, oracle, builtins, expected):
    chat = [{"role": "user", "content": "Run it"},
            {"role": "assistant", "tool_calls": [call("p", "python", "print(1)")]}]
    ids = render_chat(chat, tok, tools=[PYTHON_FUNCTION], current_date=DATE, builtin_tools=builtins)
    assert ids == oracle_tokens(oracle, [("user", "Run it", None, None, None), expected], tools=[PYTHON_FUNCTION],
                                builtins=builtins)


def test_unknown_builtin_is_explained(tok):
    with pytest.raises(InvalidInput, match="no built-in tool 'shell'"):
        render_chat([{"role": "user", "content": "x"}], tok, builtin_tools=("python", "shell"))


def test_offered_builtins_are_checked_and_ordered():
    assert offered_builtins(["python", "browser", "python"]) == ("browser", "python")
    assert offered_builtins(None) == ()


@pytest.mark.parametrize(("name", "namespace"), [
    ("browser.search", "browser"), ("browser.open", "browser"), ("browser.find", "browser"),
    ("browser.fetch", "browser"), ("python", "python"),
    ("browser", None), ("python.run", None), ("functions.python", None), ("functions.browser.search", None),
    ("get_weather", None),
])
def test_builtin_namespace(name, namespace):
    assert builtin_namespace(name) == namespace


def test_is_offered():
    assert is_offered("browser.find", ("browser",)) and is_offered("python", ("browser", "python"))
    assert not is_offered("browser.fetch", ("browser", "python"))  # no such browser function
    assert not is_offered("python", ("browser",)) and not is_offered("get_weather", ("browser", "python"))


def test_unavailable_tool_result_is_a_short_sentence():
    text = unavailable_tool_result("python")
    assert text.startswith("Error:") and "python" in text and "\n" not in text and len(text) < 100
