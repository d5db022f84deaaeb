"""A chat in progress: its history, the engine session that carries its KV cache from one turn
to the next, and its built-in tools (core/chat/tool_turns.py). The terminal and the desktop window
both drive chats through this.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.chat.events import Event
from core.chat.generate import GenerationSettings, Session, generate
from core.chat.harmony_tools import function_tools
from core.chat.tokenizer import Tokenizer
from core.chat.tool_turns import BuiltinTools, tool_turns
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
        builtin_tools: BuiltinTools | None = None,
    ):
        self.session = session
        self.tokenizer = tokenizer
        self.settings = settings or GenerationSettings()
        self.tools = tools
        # Without any offered, a built-in call the model makes anyway is answered "not available".
        self.builtin_tools = builtin_tools or BuiltinTools()
        # Fixed for the whole chat: a date that changed at midnight would change the prompt's
        # first message and throw away the cached conversation.
        self.current_date = current_date or datetime.date.today()
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []

    def send(self, text: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Adds the user's message and streams the answer, built-in tool calls and their results
        included; the answer joins the history as it is made (a cancelled answer keeps what was
        written so far)."""
        self.messages.append({"role": "user", "content": text})
        yield from self._answer(cancel)

    def add_tool_result(self, call_id: str, content: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Gives the model a function tool's result and streams its next step."""
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
        yield from self._answer(cancel)

    def reset(self) -> None:
        """Starts a new chat: the instructions stay; the history, the Python variables and the
        browser's pages go."""
        self.messages = [m for m in self.messages if m["role"] == "system"]
        self.builtin_tools.reset()

    def close(self) -> None:
        """Ends the chat's tools (the Python worker); the history stays readable."""
        self.builtin_tools.close()

    def _answer(self, cancel: threading.Event | None) -> Iterator[Event]:
        def step(messages: list[dict[str, Any]]) -> Iterator[Event]:
            return generate(self.session, self.tokenizer, messages, settings=self.settings, tools=self.tools,
                            current_date=self.current_date, cancel=cancel,
                            builtin_tools=self.builtin_tools.offered)

        try:
            functions = {f["name"] for f in function_tools(self.tools)}
            yield from tool_turns(step, self.messages, self.builtin_tools, cancel=cancel, function_names=functions)
        except HearthError:
            self.messages.pop()  # the message could not be answered; it is not history
            raise
