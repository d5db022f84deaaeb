"""The one place a turn's events become an answer: what the window shows, the terminal prints,
both API endpoints send and the conversation keeps.

- content: what is meant for the person: the final answer, and any preamble (text the model
  says on the commentary channel to no recipient, e.g. "Let me look that up.") before a tool
  call. `preamble` holds that part on its own for readers who show it apart.
- reasoning: the analysis channel (the visible chain of thought); left out where the
  organisation's policy hides reasoning (`include_reasoning=False`).
- calls: the tool calls, their arguments streamed then replaced by the complete text; a call to
  a built-in tool (`browser.search`, `python` ...) is marked `builtin`, keeps its whole name, and
  gets the tool's `result` when the turn loop ran it (`ToolResult`). Only function calls make the
  answer's finish reason "tool_calls": the built-in ones were answered within the turn.
- notices and problems: sentences about the turn (old turns dropped; a broken format).
- figures: `finished` (token counts, speeds, time to first token) and the live decode speed
  (`tokens_per_second`) from the core's `Speed` events, then the exact final figure.

`add(event)` returns the `Piece`s the event added, so a streaming reader shows exactly what
the answer gained, in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from core.chat.builtin_tools import is_builtin
from core.chat.events import (
    Event,
    Finished,
    Malformed,
    MessageStarted,
    Notice,
    Speed,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolResult,
    ToolRunning,
)

# Between two messages of the same kind in one turn (two analysis messages, a preamble and the answer).
MESSAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Piece:
    """What one event added: text of the reasoning or the content, a tool call starting (`text`
    is its name) or its arguments (`call` is its index in `Answer.calls`), a built-in tool running
    it (`text` is its name) and its result, or a sentence."""

    kind: Literal["reasoning", "content", "call", "arguments", "tool_running", "tool_result", "notice", "problem",
                  "logprob"]
    text: str
    call: int | None = None
    preamble: bool = False  # content said on commentary, before a tool call
    logprob: dict[str, Any] | None = None  # kind "logprob": the token's entry, as in `Answer.logprobs`


@dataclass
class Call:
    """A tool call: `name` is the function's ("get_weather") or the built-in's ("browser.search",
    "python"); `builtin` tells a built-in call, which the turn answers itself, from a function
    call, which goes back to the caller."""

    id: str
    name: str
    arguments: str = ""
    builtin: bool = False
    result: str | None = None  # a built-in call's result, as the model read it

    def as_chat(self) -> dict[str, Any]:
        """The chat-completions `tool_calls` entry."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass
class Answer:
    include_reasoning: bool = True
    content: str = ""
    reasoning: str = ""
    preamble: str = ""
    calls: list[Call] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # When asked: the content's tokens with their log-probabilities, as the chat-completions API
    # gives them (`token`, `logprob`, `bytes`, `top_logprobs`).
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    finished: Finished | None = None
    tokens_per_second: float | None = None
    _call_open: bool = False
    _new_message: bool = False

    @classmethod
    def of(cls, events: Iterable[Event], include_reasoning: bool = True) -> Answer:
        answer = cls(include_reasoning)
        for event in events:
            answer.add(event)
        return answer

    def add(self, event: Event) -> list[Piece]:
        if isinstance(event, MessageStarted):
            return self._start(event)
        if isinstance(event, TextDelta) and event.text:
            return self._text(event)
        if isinstance(event, ToolCall):
            # The complete arguments replace what streamed (the same text, unless a delta was
            # held back at a broken UTF-8 boundary); a call that never streamed is added whole.
            pieces = []
            if not self._call_open:
                index = len(self.calls)
                pieces = [Piece("call", self._open_call(event.recipient), index),
                          Piece("arguments", event.arguments, index)]
            self.calls[-1].arguments = event.arguments
            self._call_open = False
            return pieces
        elif isinstance(event, ToolRunning | ToolResult):
            return self._tool(event)
        elif isinstance(event, TokenLogprob):
            entry = {**_logprob_entry(event.text, event.data, event.logprob),
                     "top_logprobs": [_logprob_entry(*alternative) for alternative in event.top]}
            self.logprobs.append(entry)
            return [Piece("logprob", event.text, logprob=entry)]
        elif isinstance(event, Notice):
            self.notices.append(event.text)
            return [Piece("notice", event.text)]
        elif isinstance(event, Malformed):
            self.problems.append(event.problem)
            return [Piece("problem", event.problem)]
        elif isinstance(event, Speed):
            self.tokens_per_second = event.tokens_per_second
        elif isinstance(event, Finished):
            self.finished = event
            if event.generated_tokens > 1:
                self.tokens_per_second = event.decode_tokens_per_second
        return []

    def _start(self, event: MessageStarted) -> list[Piece]:
        if event.recipient:
            return [Piece("call", self._open_call(event.recipient), len(self.calls) - 1)]
        self._call_open = False
        self._new_message = True
        return []

    def _open_call(self, recipient: str) -> str:
        call = Call(f"call_{uuid.uuid4().hex[:24]}", recipient.removeprefix("functions."),
                    builtin=is_builtin(recipient))
        self.calls.append(call)
        self._call_open = True
        return call.name

    def _tool(self, event: ToolRunning | ToolResult) -> list[Piece]:
        index = next((i for i in reversed(range(len(self.calls))) if self.calls[i].builtin), None)
        if index is None:  # the call's own events were left out (a reader that hides built-in calls)
            return []
        if isinstance(event, ToolRunning):
            return [Piece("tool_running", event.name, index)]
        self.calls[index].result = event.text
        return [Piece("tool_result", event.text, index)]

    def _text(self, event: TextDelta) -> list[Piece]:
        if event.recipient and self._call_open:
            self.calls[-1].arguments += event.text
            return [Piece("arguments", event.text, len(self.calls) - 1)]
        kind = "reasoning" if event.channel == "analysis" else "content"
        if kind == "reasoning" and not self.include_reasoning:
            return []
        text = event.text
        if self._new_message and getattr(self, kind):
            text = MESSAGE_SEPARATOR + text
        self._new_message = False
        preamble = kind == "content" and event.channel == "commentary"
        if kind == "reasoning":
            self.reasoning += text
        else:
            self.content += text
            if preamble:
                self.preamble += event.text
        return [Piece(kind, text, preamble=preamble)]

    # -- what the answer amounts to ------------------------------------------------------------
    @property
    def finish_reason(self) -> str:
        """As the chat-completions API names it: tool_calls (a function call waits for the
        caller's result), length or stop."""
        if any(not call.builtin for call in self.calls):
            return "tool_calls"
        return "length" if self.finished is not None and self.finished.reason == "length" else "stop"

    def usage(self) -> dict[str, Any]:
        """As the chat-completions API counts tokens; `cached_tokens`: those of the prompt found
        in the KV cache from the previous turn, not computed again."""
        prompt = self.finished.prompt_tokens if self.finished else 0
        completion = self.finished.generated_tokens if self.finished else 0
        cached = self.finished.reused_tokens if self.finished else 0
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached}}

    def message(self) -> dict[str, Any]:
        """The chat-completions assistant message the turn amounts to (for the history)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            message["reasoning"] = self.reasoning
        if self.calls:
            message["tool_calls"] = [call.as_chat() for call in self.calls]
        return message


def _logprob_entry(text: str, data: bytes, logprob: float) -> dict[str, Any]:
    return {"token": text, "logprob": logprob, "bytes": list(data)}
