"""Streaming `/v1/responses`: one turn's events as the Responses API's typed stream events
(`response.created`, `response.output_item.added`, `response.output_text.delta`, ...,
`response.completed`), in the order the official clients assemble them.

Like `core.server.chat_completions`, plain JSON values in and out; `core.server.http` writes them.
Each output item (reasoning, message, function call) is opened when the model starts that
message and closed when it ends it; the final `response.completed` carries the whole
response, the same object a non-streamed request gets.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.chat.answer import Answer
from core.chat.events import Event, MessageEnded, MessageStarted, TextDelta, ToolCall
from core.server.chat_completions import response_object


class ResponseFrames:
    """Stream frames for one response; `opening()`, then `on_event()` per event, then
    `closing()` (or `failure()` when the model broke)."""

    done_marker = False  # the Responses stream ends with response.completed, not [DONE]
    event_lines = True  # each frame's type also goes on an `event:` line, as OpenAI's servers send it

    def __init__(self, answer: Answer, model_id: str):
        self.answer, self.model_id = answer, model_id
        self.response_id = f"resp_{uuid.uuid4().hex[:24]}"
        self.sequence = 0
        self.items: list[dict[str, Any]] = []  # output items as streamed so far
        self._open: dict[str, Any] | None = None  # the item being written

    def opening(self) -> list[dict[str, Any]]:
        shell = {**response_object(Answer(), self.model_id), "id": self.response_id, "status": "in_progress",
                 "output": [], "usage": None}
        return [self._frame("response.created", response=shell), self._frame("response.in_progress", response=shell)]

    def on_event(self, event: Event) -> list[dict[str, Any]]:
        pieces = self.answer.add(event)
        if isinstance(event, MessageStarted):
            return self._start(event)
        if isinstance(event, TextDelta) and self._open is not None:
            return [self._delta(p.text) for p in pieces if p.kind in ("content", "reasoning", "arguments") and p.text]
        if isinstance(event, (MessageEnded, ToolCall)) and self._open is not None:
            if isinstance(event, MessageEnded) and event.recipient:
                return []  # the ToolCall right after it has the final arguments
            return self._finish(event.arguments if isinstance(event, ToolCall) else event.text)
        return []

    def closing(self) -> list[dict[str, Any]]:
        frames = self._finish(None) if self._open is not None else []
        # The items exactly as streamed (a preamble and an answer stay two messages).
        whole = {**response_object(self.answer, self.model_id), "id": self.response_id, "output": self.items}
        kind = "response.completed" if whole["status"] == "completed" else "response.incomplete"
        return [*frames, self._frame(kind, response=whole)]

    def failure(self, message: str) -> list[dict[str, Any]]:
        return [self._frame("error", code="server_error", message=message, param=None)]

    # -- items ------------------------------------------------------------------------------
    def _start(self, event: MessageStarted) -> list[dict[str, Any]]:
        frames = self._finish(None) if self._open is not None else []
        if event.recipient:
            call = self.answer.calls[-1]
            item = {"type": "function_call", "id": f"fc_{uuid.uuid4().hex[:24]}", "call_id": call.id,
                    "name": call.name, "arguments": "", "status": "in_progress"}
        elif event.channel == "analysis":
            if not self.answer.include_reasoning:
                return frames
            item = {"type": "reasoning", "id": f"rs_{uuid.uuid4().hex[:24]}", "summary": [], "content": []}
        else:
            item = {"type": "message", "id": f"msg_{uuid.uuid4().hex[:24]}", "status": "in_progress",
                    "role": "assistant", "content": []}
        self._open = item
        self.items.append(item)
        frames.append(self._frame("response.output_item.added", output_index=len(self.items) - 1, item=dict(item)))
        part = _part(item)
        if part is not None:
            frames.append(self._frame("response.content_part.added", item_id=item["id"],
                                      output_index=len(self.items) - 1, content_index=0, part=part))
        return frames

    def _delta(self, text: str) -> dict[str, Any]:
        item, index = self._open, len(self.items) - 1
        kind = {"function_call": "response.function_call_arguments.delta",
                "reasoning": "response.reasoning_text.delta"}.get(item["type"], "response.output_text.delta")
        extra = {} if item["type"] == "function_call" else {"content_index": 0}
        if item["type"] == "message":
            extra["logprobs"] = []
        item.setdefault("_text", []).append(text)
        return self._frame(kind, item_id=item["id"], output_index=index, delta=text, **extra)

    def _finish(self, text: str | None) -> list[dict[str, Any]]:
        item, index = self._open, len(self.items) - 1
        self._open = None
        text = "".join(item.pop("_text", [])) if text is None else text
        item.pop("_text", None)
        frames = []
        if item["type"] == "function_call":
            item.update(arguments=text, status="completed")
            frames.append(self._frame("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                                      arguments=text))
        else:
            kind = "reasoning_text" if item["type"] == "reasoning" else "output_text"
            part = {"type": kind, "text": text, **({"annotations": []} if kind == "output_text" else {})}
            frames.append(self._frame(f"response.{kind}.done", item_id=item["id"], output_index=index,
                                      content_index=0, text=text))
            frames.append(self._frame("response.content_part.done", item_id=item["id"], output_index=index,
                                      content_index=0, part=part))
            item["content"] = [part]
            if item["type"] == "message":
                item["status"] = "completed"
        frames.append(self._frame("response.output_item.done", output_index=index, item=dict(item)))
        return frames

    def _frame(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.sequence += 1
        return {"type": kind, "sequence_number": self.sequence - 1, **fields}


def _part(item: dict[str, Any]) -> dict[str, Any] | None:
    if item["type"] == "message":
        return {"type": "output_text", "text": "", "annotations": []}
    if item["type"] == "reasoning":
        return {"type": "reasoning_text", "text": ""}
    return None
