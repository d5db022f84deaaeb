"""Reading a chat-completions answer (`/v1/chat/completions`), streamed chunk by chunk or whole,
into the events of a local turn.

Where each server puts the reasoning: `reasoning_content` (vLLM before 0.11, SGLang, llama.cpp,
and Hearth's own server), `reasoning` (vLLM from 0.11, OpenRouter, Ollama); a server that sends
both sends the same text twice, so the first one present is read. Tool calls stream as pieces
keyed by `index`; a piece with a new `id` at an index already used starts another call (some
servers and proxies number every call 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.chat.events import Event, Notice
from core.remote.event_writer import EventWriter

REASONING_FIELDS = ("reasoning_content", "reasoning")


class ServerStreamError(Exception):
    """The server reported an error in the middle of its answer; `str()` is its message."""


@dataclass
class Usage:
    """The server's token counts, when it gives them."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0


def reasoning_of(part: dict[str, Any]) -> str:
    for name in REASONING_FIELDS:
        value = part.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


class ChatStreamReader:
    """`feed(chunk)` for each streamed chunk (or `whole(body)` for an answer sent in one piece)
    returns the events it adds; `finish_reason` and `usage` are set as the server gives them."""

    def __init__(self) -> None:
        self.writer = EventWriter()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._ids: dict[int, str] = {}  # index -> id of the call open there
        self._keys: dict[int, int] = {}  # index -> the writer's key for it
        self._calls = 0

    def feed(self, chunk: Any) -> list[Event]:
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            raise ServerStreamError(_error_text(chunk["error"]))
        self._usage(chunk.get("usage"))
        events: list[Event] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue  # one answer per request: other choices (n > 1) are not asked for
            delta = choice.get("delta") or {}
            events += self.writer.reasoning(reasoning_of(delta))
            events += self.writer.content(delta.get("content") or "")
            for piece in delta.get("tool_calls") or ():
                events += self._call_piece(piece)
            events += self._finish(choice.get("finish_reason"))
        return events

    def whole(self, body: Any) -> list[Event]:
        """A `chat.completion` object, as a server that does not stream sends it."""
        if not isinstance(body, dict):
            return []
        if body.get("error"):
            raise ServerStreamError(_error_text(body["error"]))
        self._usage(body.get("usage"))
        events: list[Event] = []
        for choice in body.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            message = choice.get("message") or {}
            events += self.writer.reasoning(reasoning_of(message))
            events += self.writer.content(message.get("content") or "")
            for n, call in enumerate(message.get("tool_calls") or ()):
                function = call.get("function") or {}
                events += self.writer.call(("whole", n), name=function.get("name"),
                                           arguments=function.get("arguments") or "")
            events += self._finish(choice.get("finish_reason"))
        return events

    @property
    def complete(self) -> bool:
        """The server said the answer ended (a finish reason), rather than the stream just stopping."""
        return self.finish_reason is not None

    def _call_piece(self, piece: Any) -> list[Event]:
        if not isinstance(piece, dict):
            return []
        index = piece.get("index", 0) if isinstance(piece.get("index"), int) else 0
        call_id = piece.get("id")
        if index not in self._keys or (call_id and self._ids.get(index) not in (None, call_id)):
            self._keys[index] = self._calls
            self._calls += 1
        if call_id:
            self._ids[index] = call_id
        function = piece.get("function") or {}
        return self.writer.call(self._keys[index], name=function.get("name"),
                                arguments=function.get("arguments") or "")

    def _finish(self, reason: Any) -> list[Event]:
        if not isinstance(reason, str) or self.finish_reason is not None:
            return []
        self.finish_reason = reason
        events = self.writer.end(stopped=reason != "length")
        if reason == "content_filter":
            events.append(Notice("The server withheld the rest of the answer (its content filter)."))
        return events

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        details = usage.get("prompt_tokens_details") or {}
        self.usage = Usage(_count(usage.get("prompt_tokens")), _count(details.get("cached_tokens")),
                           _count(usage.get("completion_tokens")))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)
    return str(error)
