"""A chat in progress: its history and the engine session that carries its KV cache from one
turn to the next. The terminal and the desktop window both drive chats through this.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.chat.answer import Answer
from core.chat.events import Event
from core.chat.generate import GenerationSettings, Session, generate
from core.chat.tokenizer import Tokenizer
from core.errors import HearthError


class Conversation:
    def __init__(
        self,
        session: Session,
        tokenizer: Tokenizer,
        *,
        system: str | None = None,
        settings: GenerationSettings | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        current_date: str | datetime.date | None = None,
    ):
        self.session = session
        self.tokenizer = tokenizer
        self.settings = settings or GenerationSettings()
        self.tools = tools
        # Fixed for the whole chat: a date that changed at midnight would change the prompt's
        # first message and throw away the cached conversation.
        self.current_date = current_date or datetime.date.today()
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []

    def send(self, text: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Adds the user's message and streams the answer; the answer joins the history once
        the stream ends (a cancelled answer keeps what was written so far)."""
        self.messages.append({"role": "user", "content": text})
        yield from self._answer(cancel)

    def add_tool_result(self, call_id: str, content: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Gives the model a tool's result and streams its next step."""
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
        yield from self._answer(cancel)

    def _answer(self, cancel: threading.Event | None) -> Iterator[Event]:
        events: list[Event] = []
        try:
            for event in generate(self.session, self.tokenizer, self.messages, settings=self.settings,
                                  tools=self.tools, current_date=self.current_date, cancel=cancel):
                events.append(event)
                yield event
        except HearthError:
            self.messages.pop()  # the message could not be answered; it is not history
            raise
        finally:
            reply = Answer.of(events).message()
            if reply["content"] or reply.get("tool_calls"):
                self.messages.append(reply)
