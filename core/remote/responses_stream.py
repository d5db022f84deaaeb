"""Reading a Responses API answer (`/v1/responses`), streamed event by event or whole, into the
events of a local turn.

The reasoning comes as reasoning items: their text streams as `response.reasoning_text.delta`
(gpt-oss's raw reasoning: vLLM, SGLang, Hearth's own server), `response.reasoning.delta`
(older vLLM, whose delta may be an object holding the text) or, from servers that only give
a summary, `response.reasoning_summary_text.delta`. A server that sends an item only when it
is done (`response.output_item.done`, or the whole `response` at the end) is read from there.
"""

from __future__ import annotations

from typing import Any

from core.chat.events import Event, Notice
from core.remote.chat_stream import ServerStreamError, Usage
from core.remote.event_writer import EventWriter

REASONING_DELTAS = ("response.reasoning_text.delta", "response.reasoning.delta",
                    "response.reasoning_summary_text.delta")


class ResponsesStreamReader:
    """`feed(event)` for each streamed event (or `whole(response)`) returns the events it adds."""

    def __init__(self) -> None:
        self.writer = EventWriter()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._seen: set[Any] = set()  # items (by place in the output) already read, in pieces or whole

    def feed(self, event: Any) -> list[Event]:
        if not isinstance(event, dict):
            return []
        kind = event.get("type")
        key = _key(event)
        if kind in REASONING_DELTAS:
            self._seen.add(key)
            return self.writer.reasoning(_text(event.get("delta")))
        if kind == "response.output_text.delta":
            self._seen.add(key)
            return self.writer.content(_text(event.get("delta")))
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                self._seen.add(_item_key(event, item))
                return self.writer.call(_item_key(event, item), name=item.get("name"),
                                        arguments=item.get("arguments") or "")
            return []
        if kind == "response.function_call_arguments.delta":
            self._seen.add(key)
            return self.writer.call(key, arguments=_text(event.get("delta")))
        if kind == "response.function_call_arguments.done":
            return self.writer.call_done(key, arguments=event.get("arguments"))
        if kind == "response.output_item.done":
            item = event.get("item") or {}
            return self._item(item, _item_key(event, item), done=True)
        if kind in ("response.completed", "response.incomplete"):
            return self._end(event.get("response") or {})
        if kind == "response.failed":
            response = event.get("response") or {}
            raise ServerStreamError(_error_text(response.get("error")) or "the answer failed")
        if kind == "error":
            raise ServerStreamError(_error_text(event.get("error") or event) or "unknown error")
        return []

    def whole(self, response: Any) -> list[Event]:
        """A `response` object, as a server that does not stream sends it."""
        if not isinstance(response, dict):
            return []
        if response.get("error"):
            raise ServerStreamError(_error_text(response["error"]))
        return self._end(response)

    @property
    def complete(self) -> bool:
        return self.finish_reason is not None

    def _item(self, item: dict[str, Any], key: Any, done: bool = False) -> list[Event]:
        """An output item given whole: what of it did not stream."""
        kind = item.get("type")
        if key in self._seen and not (done and kind == "function_call"):
            return []
        self._seen.add(key)
        if kind == "function_call":
            return self.writer.call_done(key, name=item.get("name"), arguments=item.get("arguments"))
        if kind == "reasoning":
            parts = item.get("content") or item.get("summary") or []
            return self.writer.reasoning("".join(_text(p) for p in parts if isinstance(p, dict)))
        if kind == "message":
            parts = item.get("content") or []
            return self.writer.content("".join(_text(p) for p in parts
                                               if isinstance(p, dict) and p.get("type") in ("output_text", "text")))
        return []

    def _end(self, response: dict[str, Any]) -> list[Event]:
        if self.finish_reason is not None:
            return []
        events: list[Event] = []
        for n, item in enumerate(response.get("output") or ()):
            if isinstance(item, dict):
                events += self._item(item, n)
        usage = response.get("usage")
        if isinstance(usage, dict):
            details = usage.get("input_tokens_details") or {}
            self.usage = Usage(_count(usage.get("input_tokens")), _count(details.get("cached_tokens")),
                               _count(usage.get("output_tokens")))
        reason = (response.get("incomplete_details") or {}).get("reason")
        self.finish_reason = ("length" if reason == "max_output_tokens" else "content_filter"
                              if reason == "content_filter" else "stop")
        events += self.writer.end(stopped=self.finish_reason != "length")
        if self.finish_reason == "content_filter":
            events.append(Notice("The server withheld the rest of the answer (its content filter)."))
        return events


def _key(event: dict[str, Any]) -> Any:
    """Which output item an event is about: its place in the output (every event of the API
    names it), else its id."""
    return event.get("output_index", event.get("item_id"))


def _item_key(event: dict[str, Any], item: dict[str, Any]) -> Any:
    return event.get("output_index", item.get("id"))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # older vLLM: {"content": "..."}; content parts: {"text": "..."}
        text = value.get("text", value.get("content"))
        return text if isinstance(text, str) else ""
    return ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")
    return str(error or "")
