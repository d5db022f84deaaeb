"""The server's side of gpt-oss's built-in tools (`hearth serve --tools browser,python`): each
request's answer is made in steps (core/chat/tool_turns.py), the server running every built-in
call itself, and the client gets the answer only.

What an API client sees of a built-in call: nothing but the reasoning around it. The calls, their
arguments and results are left out of `tool_calls`, `function_call` items and the stream alike:
chat completions has no item for a call the server ran, and a `tool_calls` entry would tell the
client to answer it (finish reason "tool_calls"), which it cannot. The model's reasoning between
the calls stays in `reasoning_content` (where the policy shows reasoning), and the usage counts
every step's generated tokens and the last step's prompt. Each request has tools of its own: a
Python session lives for one request, since a client sends the history, not the variables.

A client's own function tools work as before: such a call ends the answer and goes back to the
client, also one named `python` while the built-in python is not offered.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from core.chat.events import (
    Event,
    Finished,
    MessageEnded,
    MessageStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolRunning,
)
from core.chat.generate import GenerationSettings, Session, stream
from core.chat.tokenizer import Tokenizer
from core.chat.tool_turns import BuiltinTools, answered_in_turn, tool_turns
from core.errors import ContextOverflow


def answer_in_steps(session: Session, tokenizer: Tokenizer, messages: Sequence[dict[str, Any]], prompt: list[int],
                    render: Callable[[list[dict[str, Any]]], list[int]], settings: GenerationSettings,
                    tools: BuiltinTools, function_names: set[str], cancel: threading.Event) -> Iterator[Event]:
    """The events of one request's answer as the client sees them. `prompt` is the first step's
    (already checked against the context), `render` makes each later step's; `settings.max_new_tokens`
    is the whole answer's limit, all steps together."""
    first = [prompt]
    spent = 0

    def step(chat: list[dict[str, Any]]) -> Iterator[Event]:
        nonlocal spent
        tokens = first.pop() if first else render(chat)
        room = min(session.max_tokens - len(tokens), settings.max_new_tokens - spent)
        if room < 1:
            if len(tokens) >= session.max_tokens:
                raise ContextOverflow(f"The tools' results filled the model's context ({session.max_tokens} tokens) "
                                      "before it could answer.")
            yield Finished("length", len(tokens), 0, 0, 0.0, 0.0, 0.0)
            return
        for event in stream(session, tokenizer, tokens, settings=dataclasses.replace(settings, max_new_tokens=room),
                            cancel=cancel):
            if isinstance(event, Finished):
                spent += event.generated_tokens
            yield event

    events = tool_turns(step, [dict(m) for m in messages], tools, cancel=cancel, function_names=function_names)
    return without_builtin_calls(events, tools.offered, function_names)


def without_builtin_calls(events: Iterator[Event], offered: Sequence[str],
                          function_names: set[str]) -> Iterator[Event]:
    """`events` less the built-in calls the server answered and their results."""
    for event in events:
        if isinstance(event, ToolRunning | ToolResult):
            continue
        recipient = event.recipient if isinstance(event, MessageStarted | TextDelta | MessageEnded | ToolCall) else None
        if recipient is not None and answered_in_turn(recipient, offered, function_names):
            continue
        yield event
