"""A chat's built-in tools end to end in the core: real tiny checkpoints scripted to search, open
and cite a planted fact, and to keep a Python variable from one call to the next, driven through
`Conversation` with the real document library and sandbox; the tools' results are checked in
the prompt the model read next (the session's tokens), and the answer's citation resolved to the
file and line."""

from __future__ import annotations

import json
import threading

import pytest

from core.chat.answer import Answer
from core.chat.conversation import Conversation
from core.chat.events import Finished, ToolResult, ToolRunning
from core.chat.generate import GenerationSettings
from core.chat.opener import open_model
from core.chat.tool_turns import BuiltinTools
from core.docs import Library
from core.engine.sampling import SamplingParams
from core.store.identity import ModelFolder
from tests.scripted_tools import (
    CITED_ANSWER,
    FACT_VIEW,
    PYTHON_ANSWER,
    PYTHON_ROUNDS,
    SEARCH_ROUNDS,
    SLEEPING_CALL,
    index_documents,
    write_round_model,
)

GREEDY = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=200)


def chat(folder, tools: BuiltinTools) -> Conversation:
    opened = open_model(ModelFolder(folder, None), "cpu")
    return Conversation(opened.model.new_session(4096), opened.tokenizer, settings=GREEDY, builtin_tools=tools)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    root = tmp_path_factory.mktemp("library")
    return Library(index_documents(root / "index", root / "documents"))


def test_search_open_and_a_cited_answer(tmp_path, library):
    conversation = chat(write_round_model(tmp_path / "model", SEARCH_ROUNDS), BuiltinTools(("browser",),
                                                                                        library=library))
    events = list(conversation.send("What torque does the zephyr bearing need?"))
    answer = Answer.of(events)
    assert answer.content == CITED_ANSWER
    assert [c.name for c in answer.calls] == ["browser.search", "browser.open"]
    assert "【0†Pump maintenance†maintenance.md】" in answer.calls[0].result
    assert FACT_VIEW in answer.calls[1].result
    # The open's result is in the prompt the answer was written from.
    text = conversation.tokenizer.decode(conversation.session.tokens)
    assert "<|start|>browser.open to=assistant<|channel|>analysis<|message|>[1] Pump maintenance" in text
    assert FACT_VIEW in text and text.endswith(CITED_ANSWER)
    # The citation leads to the file and line the fact is on.
    (_, citation), = conversation.builtin_tools.browser.citations(answer.content)
    assert (citation.path.name, citation.line) == ("maintenance.md", 3)
    assert [type(e) for e in events].count(Finished) == 1 and events[-1].generated_tokens > 30
    # The history holds both calls and results, then the answer; a second question starts afresh.
    assert [m["role"] for m in conversation.messages] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    again = Answer.of(conversation.send("And again?"))
    assert again.content == CITED_ANSWER and len(again.calls) == 2  # the finished turn's calls left the prompt
    conversation.close()


def test_python_keeps_its_variables_from_one_call_to_the_next(tmp_path):
    conversation = chat(write_round_model(tmp_path / "model", PYTHON_ROUNDS), BuiltinTools(("python",)))
    try:
        answer = Answer.of(conversation.send("What is the secret?"))
        assert answer.content == PYTHON_ANSWER
        assert [c.arguments for c in answer.calls] == ["secret = 6*7", "print(secret)"]
        assert answer.calls[1].result == "42\n"
        text = conversation.tokenizer.decode(conversation.session.tokens)
        assert "<|start|>python to=assistant<|channel|>analysis<|message|>42\n<|end|>" in text
    finally:
        conversation.close()


def test_stop_ends_a_running_python_call(tmp_path):
    conversation = chat(write_round_model(tmp_path / "model", (SLEEPING_CALL,)), BuiltinTools(("python",)))
    cancel = threading.Event()
    events = []
    try:
        for event in conversation.send("Sleep.", cancel=cancel):
            events.append(event)
            if isinstance(event, ToolRunning):
                threading.Timer(0.5, cancel.set).start()
    finally:
        conversation.close()
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.seconds < 10 and result.text.endswith("KeyboardInterrupt")  # as a notebook says it
    assert events[-1].reason == "cancelled"


def test_a_json_answer_may_search_and_open_first(tmp_path, library):
    """With a structured answer asked, the built-ins stay callable: search, open, then the JSON."""
    from core.chat.structured import JsonFormat, Structure

    schema = {"type": "object", "properties": {"torque_nm": {"type": "integer"}, "source": {"type": "string"}},
              "required": ["torque_nm", "source"], "additionalProperties": False}
    final = '{"torque_nm":42,"source":"【1†L3】"}'  # no token twice with different successors (a bigram script)
    rounds = (*SEARCH_ROUNDS[:2], f"<|channel|>final<|message|>{final}<|return|>")
    conversation = chat(write_round_model(tmp_path / "model", rounds), BuiltinTools(("browser",), library=library))
    conversation.settings = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=200,
                                               structure=Structure(JsonFormat(schema, name="torque")))
    answer = Answer.of(conversation.send("What torque does the zephyr bearing need? Answer as JSON."))
    assert [c.name for c in answer.calls] == ["browser.search", "browser.open"]
    assert FACT_VIEW in answer.calls[1].result
    assert json.loads(answer.content) == {"torque_nm": 42, "source": "【1†L3】"}
    conversation.close()
