"""The one place a remote server's pieces become the events of a local turn (core/chat/events.py),
so that `Answer`, the terminal and the window show a remote answer exactly as a local one.

The readers of each wire format (chat_stream.py, responses_stream.py) say what arrived:
reasoning text, answer text, a piece of a tool call; `EventWriter` opens and ends the
messages around them as harmony would have: reasoning on the "analysis" channel, the answer on
"final", each function call on "commentary" to "functions.NAME", ended by a `ToolCall` with
its whole arguments, and the turn by `TurnEnded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.chat.events import Event, Malformed, MessageEnded, MessageStarted, TextDelta, ToolCall, TurnEnded

CALL_CONTENT_TYPE = "json"


@dataclass
class _Call:
    key: Any
    name: str | None = None
    arguments: list[str] = field(default_factory=list)
    started: bool = False  # its MessageStarted was sent (the name is known)
    ended: bool = False


class EventWriter:
    """Feed it what arrives, in order; each method returns the events that adds."""

    def __init__(self) -> None:
        self._channel: str | None = None  # the open text message: "analysis" or "final"
        self._text: list[str] = []
        self._call: _Call | None = None  # the open call
        self._calls: dict[Any, _Call] = {}
        self.calls = 0  # calls ended with a ToolCall
        self.wrote = False  # any text or call arrived

    # -- what arrived ----------------------------------------------------------------------
    def reasoning(self, text: str) -> list[Event]:
        return self._say("analysis", text)

    def content(self, text: str) -> list[Event]:
        return self._say("final", text)

    def call(self, key: Any, *, name: str | None = None, arguments: str = "") -> list[Event]:
        """A piece of the call known by `key` (its index or id): its name, when it comes, and
        more of its arguments. A new key ends the message before it."""
        events: list[Event] = []
        call = self._calls.get(key)
        if call is None:
            events += self.close()
            call = self._call = self._calls[key] = _Call(key)
        elif call is not self._call:
            if call.ended:  # a late piece of a call already handed over: cannot be added any more
                return [Malformed(f"The server sent more of a tool call after it had ended ({call.name}).")]
            events += self.close()
            self._call = call
        if name and not call.name:
            call.name = name
        if arguments:
            call.arguments.append(arguments)
            self.wrote = True
        if call.name and not call.started:
            call.started = self.wrote = True
            recipient = f"functions.{call.name}"
            events.append(MessageStarted("commentary", recipient, CALL_CONTENT_TYPE))
            if call.arguments:
                events.append(TextDelta("commentary", "".join(call.arguments), recipient))
        elif call.started and arguments:
            events.append(TextDelta("commentary", arguments, f"functions.{call.name}"))
        return events

    def call_done(self, key: Any, *, name: str | None = None, arguments: str | None = None) -> list[Event]:
        """The whole call, when the server says it again at its end: its text replaces what streamed."""
        events = self.call(key, name=name)
        call = self._calls[key]
        if arguments is not None and not call.ended:
            call.arguments = [arguments]
        return events

    # -- endings ---------------------------------------------------------------------------
    def close(self, complete: bool = True) -> list[Event]:
        """Ends the open message. An open call ends with its `ToolCall`, unless the answer was
        cut off (`complete` False): half its arguments are no call to make."""
        if self._channel is not None:
            channel, text = self._channel, "".join(self._text)
            self._channel, self._text = None, []
            return [MessageEnded(channel, text)]
        call, self._call = self._call, None
        if call is None or call.ended:
            return []
        call.ended = True
        if not call.name:
            return [Malformed("The server sent a tool call without the tool's name; it was left out.")]
        recipient, arguments = f"functions.{call.name}", "".join(call.arguments)
        if not complete:
            return [MessageEnded("commentary", arguments, recipient)]
        self.calls += 1
        return [MessageEnded("commentary", arguments, recipient), ToolCall(recipient, arguments, CALL_CONTENT_TYPE)]

    def end(self, stopped: bool) -> list[Event]:
        """Ends the turn: `stopped` when the model finished (not cut off by a length limit)."""
        events = self.close()
        if stopped:
            events.append(TurnEnded("call" if self.calls else "return"))
        return events

    def _say(self, channel: str, text: str) -> list[Event]:
        if not text:
            return []
        events: list[Event] = []
        if self._channel != channel:
            events += self.close()
            if self._call is not None:
                events += self.close()
            self._channel = channel
            events.append(MessageStarted(channel))
        self._text.append(text)
        self.wrote = True
        events.append(TextDelta(channel, text))
        return events
