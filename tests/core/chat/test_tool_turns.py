"""The built-in tools' turn loop on scripted steps and stand-in tools: a call is run and its result
given back before the model goes on, in the history's chat-completions form; a tool not offered,
the cap on calls, Stop during a running tool, a failing later step, function calls left to the
caller; and the answer's view of it all (one `Finished`, the calls' results)."""

from __future__ import annotations

import threading
import time

import pytest

from core.chat.answer import Answer
from core.chat.builtin_tools import unavailable_tool_result
from core.chat.events import (
    Finished,
    MessageEnded,
    MessageStarted,
    Notice,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolRunning,
    TurnEnded,
)
from core.chat.harmony import render_chat
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.chat.tool_turns import BuiltinTools, answered_in_turn, tool_turns
from core.errors import ContextOverflow

SEARCH = '{"query": "zephyr"}'


def thinking(text: str) -> list:
    return [MessageStarted("analysis"), TextDelta("analysis", text), MessageEnded("analysis", text)]


def calling(recipient: str, arguments: str, channel: str = "analysis") -> list:
    return [MessageStarted(channel, recipient, "code"), TextDelta(channel, arguments, recipient),
            MessageEnded(channel, arguments, recipient), ToolCall(recipient, arguments, "code"), TurnEnded("call")]


def answering(text: str) -> list:
    return [MessageStarted("final"), TextDelta("final", text), MessageEnded("final", text), TurnEnded("return")]


def done(generated: int, prompt: int = 100, reason: str = "stop") -> Finished:
    return Finished(reason, prompt, prompt // 2, generated, 1000.0, 50.0, 0.25)


class Steps:
    """Answers each step with the next script (the last one again once they run out), keeping
    the messages each step was given."""

    def __init__(self, *scripts: list):
        self.scripts = list(scripts)
        self.seen: list[list[dict]] = []

    def __call__(self, messages):
        self.seen.append([dict(m) for m in messages])
        script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        yield from script


class FakeTools(BuiltinTools):
    """Built-in tools whose calls answer `"<name> saw <arguments>"`; `block` makes a call wait for stop()."""

    def __init__(self, offered=("browser", "python"), *, block: bool = False, max_calls: int = 8):
        super().__init__(offered, max_calls=max_calls)
        self.ran: list[tuple[str, str]] = []
        self.block, self.stopped, self.closed = block, threading.Event(), False

    def run(self, name, arguments):
        self.ran.append((name, arguments))
        if self.block:
            assert self.stopped.wait(10)
            return "stopped"
        return f"{name} saw {arguments}"

    def stop(self):
        self.stopped.set()


def run(steps, tools, messages=None, **options):
    messages = messages if messages is not None else [{"role": "user", "content": "What torque?"}]
    return list(tool_turns(steps, messages, tools, **options)), messages


def test_a_call_is_run_and_the_model_goes_on_with_its_result():
    steps = Steps([*thinking("Search."), *calling("browser.search", SEARCH), done(10)],
                  [*thinking("Found it."), *answering("42 Nm."), done(5, prompt=160)])
    tools = FakeTools()
    events, messages = run(steps, tools)
    assert tools.ran == [("browser.search", SEARCH)]
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ToolCall") < kinds.index("ToolRunning") < kinds.index("ToolResult") \
        < kinds.index("TextDelta", 5)
    assert [e for e in events if isinstance(e, ToolResult)] == [
        ToolResult("browser.search", f"browser.search saw {SEARCH}", events[kinds.index("ToolResult")].seconds)]
    # One Finished, for the whole answer: both steps' tokens, the last prompt.
    finished = [e for e in events if isinstance(e, Finished)]
    assert finished == [events[-1]] and events[-1].generated_tokens == 15 and events[-1].prompt_tokens == 160
    assert events[-1].time_to_first_token == 0.25 and events[-1].reason == "stop"
    # The history as render_chat reads it: the call, its result (named), then the answer.
    call, result, reply = messages[1:]
    assert call["role"] == "assistant" and call["reasoning"] == "Search."
    assert call["tool_calls"][0]["function"] == {"name": "browser.search", "arguments": SEARCH}
    assert result == {"role": "tool", "tool_call_id": call["tool_calls"][0]["id"], "name": "browser.search",
                      "content": f"browser.search saw {SEARCH}"}
    assert reply["content"] == "42 Nm." and "tool_calls" not in reply
    assert steps.seen[1] == messages[:3]  # the second step saw the call and its result


def test_the_history_renders_the_call_and_result_as_harmony_does():
    steps = Steps([*calling("python", "print(6*7)"), done(4)], [*answering("42"), done(2)])
    _, messages = run(steps, FakeTools())
    tok = load_tokenizer(shipped_vocabulary())
    prompt = tok.decode(render_chat(messages[:3], tok, builtin_tools=("python",), current_date="2025-01-01"))
    assert prompt.endswith("<|start|>assistant to=python<|channel|>analysis code<|message|>print(6*7)<|call|>"
                           "<|start|>python to=assistant<|channel|>analysis<|message|>python saw print(6*7)<|end|>"
                           "<|start|>assistant")


def test_a_builtin_not_offered_is_answered_without_running():
    steps = Steps([*calling("python", "1+1"), done(3)], [*answering("Two."), done(2)])
    tools = FakeTools(offered=("browser",))
    events, messages = run(steps, tools)
    assert tools.ran == []
    results = [e for e in events if isinstance(e, ToolResult)]
    assert results == [ToolResult("python", unavailable_tool_result("python"), ran=False)]
    assert not any(isinstance(e, ToolRunning) for e in events)
    assert messages[2]["content"] == unavailable_tool_result("python") and messages[-1]["content"] == "Two."


def test_past_the_cap_the_model_is_told_to_answer_then_stopped():
    steps = Steps([*calling("browser.search", SEARCH), done(3)])  # calls for ever
    tools = FakeTools(max_calls=3)
    events, messages = run(steps, tools)
    assert len(tools.ran) == 3
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [r.ran for r in results] == [True, True, True, False]
    assert "has used its 3 tool calls. Answer now with what you have" in results[-1].text
    notice = [e for e in events if isinstance(e, Notice)]
    assert len(notice) == 1 and "limit of 3 calls" in notice[0].text
    assert isinstance(events[-1], Finished) and events[-1].generated_tokens == 15  # five steps
    # Every call in the history has its result, the last one's saying why it was not run.
    calls = [m for m in messages if m.get("tool_calls")]
    answers = [m for m in messages if m["role"] == "tool"]
    assert len(calls) == len(answers) == 5 and "too many tool calls" in answers[-1]["content"]


def test_stop_during_a_tool_stops_the_tool_and_the_answer():
    steps = Steps([*calling("python", "import time; time.sleep(60)"), done(3)], [*answering("never"), done(1)])
    tools, cancel = FakeTools(block=True), threading.Event()
    seen = []
    started = time.monotonic()
    for event in tool_turns(steps, [{"role": "user", "content": "Sleep."}], tools, cancel=cancel):
        seen.append(event)
        if isinstance(event, ToolRunning):
            threading.Timer(0.1, cancel.set).start()
    assert time.monotonic() - started < 5 and tools.stopped.is_set()
    assert isinstance(seen[-2], ToolResult) and seen[-2].text == "stopped"
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "cancelled"
    assert len(steps.seen) == 1  # the model was not asked again


def test_a_stop_that_came_while_the_call_was_written_runs_nothing():
    cancel = threading.Event()
    cancel.set()
    tools = FakeTools()
    events, messages = run(Steps([*calling("python", "1"), done(2)]), tools, cancel=cancel)
    assert tools.ran == [] and events[-1].reason == "cancelled"
    assert messages[-1]["role"] == "tool" and "stopped" in messages[-1]["content"]


def test_a_failure_before_anything_streamed_raises_and_a_later_one_ends_the_answer():
    def failing(messages):
        raise ContextOverflow("The message is too long.")
        yield

    with pytest.raises(ContextOverflow):
        run(failing, FakeTools())
    first = [*calling("browser.search", SEARCH), done(3)]
    calls = iter([first])

    def second_fails(messages):
        script = next(calls, None)
        if script is None:
            raise ContextOverflow("The tools' results filled the context.")
        yield from script

    events, messages = run(second_fails, FakeTools())
    assert events[-1].reason == "error" and events[-1].error == "The tools' results filled the context."
    assert events[-1].generated_tokens == 3
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]


def test_a_function_call_goes_back_to_the_caller():
    steps = Steps([*calling("functions.get_weather", '{"city": "Oslo"}', "commentary"), done(6)])
    tools = FakeTools()
    events, messages = run(steps, tools)
    assert tools.ran == [] and len(steps.seen) == 1
    assert Answer.of(events).finish_reason == "tool_calls"
    assert messages[-1]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_a_client_function_named_python_is_not_the_builtin():
    steps = Steps([*calling("python", "{}"), done(2)])
    tools = FakeTools(offered=())
    events, _ = run(steps, tools, function_names={"python"})
    assert tools.ran == [] and not any(isinstance(e, ToolResult) for e in events)
    assert answered_in_turn("python", (), ()) and not answered_in_turn("python", (), {"python"})
    assert answered_in_turn("python", ("python",), {"python"}) and not answered_in_turn("functions.x", ("python",))


def test_the_answer_shows_each_call_with_its_result():
    steps = Steps([*calling("browser.search", SEARCH), done(3)], [*thinking("Ok."), *answering("42."), done(2)])
    events, _ = run(steps, FakeTools())
    answer = Answer()
    pieces = [p for e in events for p in answer.add(e)]
    kinds = [p.kind for p in pieces]
    assert kinds == ["call", "arguments", "tool_running", "tool_result", "reasoning", "content"]
    assert pieces[2].call == pieces[3].call == 0 and pieces[2].text == "browser.search"
    assert answer.calls[0].result == f"browser.search saw {SEARCH}" and answer.calls[0].builtin
    assert answer.finish_reason == "stop" and answer.content == "42."


def test_builtin_tools_answer_every_call_in_words():
    tools = BuiltinTools(("python",))
    assert tools.run("browser.search", SEARCH) == unavailable_tool_result("browser.search")
    assert tools.browser is None
    fresh = tools.new_chat()
    assert fresh.offered == ("python",) and fresh is not tools
    tools.close()
    assert "closed" in tools.run("python", "1")  # a closed chat's tools say so, never raise
    tools.reset()
    tools.close()
    with pytest.raises(Exception, match="no built-in tool 'web'"):
        BuiltinTools(("web",))


def test_a_browser_without_library_folders_says_so(tmp_path):
    from core.docs import Library

    tools = BuiltinTools(("browser",), library=Library(tmp_path / "index"))
    assert "library is empty" in tools.run("browser.search", SEARCH)
    assert tools.browser is not None
    assert tools.run("browser.fetch", "{}") == unavailable_tool_result("browser.fetch")


def test_a_reader_that_leaves_keeps_the_history_well_formed():
    tools = FakeTools()
    messages = [{"role": "user", "content": "Search."}]
    events = tool_turns(Steps([*calling("browser.search", SEARCH), done(3)]), messages, tools)
    for event in events:
        if isinstance(event, ToolRunning):
            break
    events.close()
    assert tools.ran == []
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"] and "not run" in messages[-1]["content"]
