"""A chat with a model on a remote server: its history, the settings of its answers and tools,
and each turn streamed as events. The same surface as core/chat/conversation.py's
`Conversation` (`messages`, `settings`, `send`, `add_tool_result`), so the terminal and the
window drive a remote chat the way they drive a local one; the server keeps nothing between
turns, so the whole history goes with each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.chat.answer import Answer
from core.chat.events import Event
from core.errors import HearthError
from core.remote.request_body import RemoteSettings
from core.remote.turn import RemoteModel


class RemoteConversation:
    def __init__(self, model: RemoteModel, *, system: str | None = None, settings: RemoteSettings | None = None,
                 tools: Sequence[Mapping[str, Any]] | None = None):
        self.model = model
        self.settings = settings or RemoteSettings()
        self.tools = tools
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []

    def send(self, text: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Adds the user's message and streams the answer; the answer joins the history once
        the stream ends (a cancelled or broken answer keeps what arrived)."""
        self.messages.append({"role": "user", "content": text})
        yield from self._answer(cancel)

    def add_tool_result(self, call_id: str, content: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Gives the model a tool's result and streams its next step."""
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
        yield from self._answer(cancel)

    def _answer(self, cancel: threading.Event | None) -> Iterator[Event]:
        events: list[Event] = []
        try:
            for event in self.model.generate(self.messages, settings=self.settings, tools=self.tools,
                                             cancel=cancel):
                events.append(event)
                yield event
        except HearthError:
            self.messages.pop()  # the message could not be answered; it is not history
            raise
        finally:
            reply = Answer.of(events).message()
            if reply["content"] or reply.get("tool_calls"):
                self.messages.append(reply)
