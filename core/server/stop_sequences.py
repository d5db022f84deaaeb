"""The chat-completions `stop` field: the answer ends where its text first contains one of the
stop strings, which is left out, and `finish_reason` is "stop".

It watches the final channel's text (what the person reads; the reasoning is not searched, as
OpenAI's reasoning models do not search theirs) as the engine streams it. Text that might be
the start of a stop string is held back until the next piece says whether it is; when a stop
string is found, the engine is asked to stop (`cancel`) and everything after it is dropped.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

from core.chat.events import Event, Finished, MessageEnded, TextDelta

MAX_STOPS = 4


class StopSequences:
    def __init__(self, stops: tuple[str, ...], cancel: threading.Event):
        self.stops = stops
        self.cancel = cancel
        self.stopped = False  # a stop string was found (not: the client left)
        self._held = ""  # final text not passed on yet: it may begin a stop string
        self._shown = ""  # final text passed on

    def filter(self, events: Iterator[Event]) -> Iterator[Event]:
        for event in events:
            if isinstance(event, Finished):
                yield from self._flush()
                yield dataclasses.replace(event, reason="stop") if self.stopped else event
            elif self.stopped:
                continue  # what the engine wrote before it saw `cancel`
            elif isinstance(event, TextDelta) and event.channel == "final":
                yield from self._text(event)
            elif isinstance(event, MessageEnded) and event.channel == "final":
                yield from self._flush()
                yield dataclasses.replace(event, text=self._shown)
            else:
                yield event

    def _text(self, delta: TextDelta) -> Iterator[Event]:
        text = self._held + delta.text
        found = [i for i in (text.find(stop) for stop in self.stops) if i >= 0]
        if found:
            self.stopped = True
            self.cancel.set()
            self._held = ""
            yield from self._pass(delta, text[:min(found)])
            yield MessageEnded("final", self._shown, delta.recipient)
            return
        keep = max((n for stop in self.stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0)
        self._held = text[len(text) - keep:] if keep else ""
        yield from self._pass(delta, text[:len(text) - keep])

    def _flush(self) -> Iterator[Event]:
        if self._held and not self.stopped:
            held, self._held = self._held, ""
            yield from self._pass(TextDelta("final", ""), held)

    def _pass(self, delta: TextDelta, text: str) -> Iterator[Event]:
        if text:
            self._shown += text
            yield dataclasses.replace(delta, text=text)
