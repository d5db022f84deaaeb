"""Streaming parse of gpt-oss output (harmony format) into typed events.

Owns the state machine: header (`<|channel|>final`, ` to=functions.x`, `<|constrain|>json`; a
call's recipient before or after the channel, as the model and the reference renderer write it),
content streamed as UTF-8-safe text deltas, message ends (`<|end|>`), and turn ends
(`<|return|>`, `<|call|>`, `<|endoftext|>`). Output that breaks the format is reported as a
`Malformed` event and parsing carries on: a person always sees what the model wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.chat.detokenizer import StreamingDetokenizer
from core.chat.events import Malformed, MessageEnded, MessageStarted, ParserEvent, TextDelta, ToolCall, TurnEnded
from core.chat.harmony import CHANNELS
from core.chat.tokenizer import Tokenizer

MAX_HEADER_TOKENS = 64  # a real header is under 20 tokens; past this the model is rambling

_RECIPIENT = re.compile(r"\bto=([^\s<]+)")
_CHANNEL = re.compile(r"<\|channel\|>\s*([^\s<]*)")
_CONSTRAIN = re.compile(r"<\|constrain\|>\s*([^\s<]*)")


@dataclass
class ParsedMessage:
    channel: str
    recipient: str | None
    content_type: str | None
    text: str = ""


class HarmonyStreamParser:
    """Feed it the generated ids one at a time. It starts inside the header of an assistant
    message, since a harmony prompt ends with `<|start|>assistant`."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.messages: list[ParsedMessage] = []  # completed messages, in order
        self.turn_ended = False
        # header -> content -> between -> header ...; a stop token leads to ended (then
        # ended-reported once text after the end has been reported).
        self._state = "header"
        self._header: list[int] = []
        self._first_header = True
        self._current: ParsedMessage | None = None
        self._text = StreamingDetokenizer(tokenizer)

    @property
    def writing_answer(self) -> bool:
        """Inside a message meant for the person: the final answer, or a preamble (commentary
        addressed to nobody)."""
        message = self._current
        return (self._state == "content" and message is not None and message.recipient is None
                and message.channel in ("final", "commentary"))

    def feed(self, token_id: int) -> list[ParserEvent]:
        tok = self.tokenizer
        stop = tok.stop_tokens
        if self._state == "ended":
            if token_id in stop:
                return []
            self._state = "ended-reported"
            return [Malformed("The model kept writing after it ended its answer; the rest is ignored.")]
        if self._state == "ended-reported":
            return []
        if self._state == "header":
            return self._feed_header(token_id, stop)
        if self._state == "between":
            if token_id == tok.start:
                self._state, self._header, self._first_header = "header", [], False
                return []
            if token_id in stop:
                return self._end_turn(stop[token_id])
            events: list[ParserEvent] = [Malformed("The model wrote text outside a message; it is shown "
                                                   "as part of the answer.")]
            return events + self._open(ParsedMessage("final", None, None)) + self._feed_content(token_id, stop)
        return self._feed_content(token_id, stop)

    def finish(self) -> list[ParserEvent]:
        """The stream stopped without a stop token (length limit, cancel): close what is open."""
        if self._state == "content":
            return self._close()
        if self._state == "header" and self._header:
            return [Malformed("The model's output stopped inside a message header.")]
        return []

    def _feed_header(self, token_id: int, stop: dict[int, str]) -> list[ParserEvent]:
        tok = self.tokenizer
        if token_id == tok.message:
            return self._open_from_header()
        if token_id in stop:
            problem = Malformed("The model ended its turn inside a message header.")
            return [problem, *self._end_turn(stop[token_id])]
        self._header.append(token_id)
        if len(self._header) > MAX_HEADER_TOKENS:
            # No <|message|> is coming: show the header text as the answer rather than hang on it.
            header, self._header = self._header, []
            events = [Malformed("The model wrote a message header that never ended; it is shown as text.")]
            events += self._open(ParsedMessage("final", None, None))
            for token in header:
                if not tok.is_special(token):
                    events += self._delta(self._text.add(token))
            return events
        return []

    def _open_from_header(self) -> list[ParserEvent]:
        tok = self.tokenizer
        text = "".join(tok.special_name(t) if tok.is_special(t) else tok.decode([t]) for t in self._header)
        events: list[ParserEvent] = []
        text = text.strip()
        role = "" if self._first_header else re.split(r"<\||\s", text, maxsplit=1)[0]
        if not self._first_header and role != "assistant":
            events.append(Malformed(f"The model wrote a message as {role or 'nobody'!r} instead of as "
                                    "the assistant."))
        recipient, channel, content_type = _read_header(text[len(role):])
        name = channel or ""
        if name not in CHANNELS:
            why = f"an unknown channel {name!r}" if name else "no channel"
            events.append(Malformed(f"The model started a message with {why}; it is shown as the answer."))
            name = "final"
        self._header = []
        return events + self._open(ParsedMessage(name, recipient, content_type))

    def _open(self, message: ParsedMessage) -> list[ParserEvent]:
        self._current, self._state = message, "content"
        return [MessageStarted(message.channel, message.recipient, message.content_type)]

    def _feed_content(self, token_id: int, stop: dict[int, str]) -> list[ParserEvent]:
        tok = self.tokenizer
        if token_id == tok.end:
            events = self._close()
            self._state = "between"
            return events
        if token_id in stop:
            events = self._close()
            if stop[token_id] == "call" and not self.messages[-1].recipient:
                events.append(Malformed("The model ended a message with a tool call but named no tool."))
            return events + self._end_turn(stop[token_id])
        if token_id == tok.start:
            events = [Malformed("The model began a new message without ending the last one.")]
            events += self._close()
            self._state, self._header, self._first_header = "header", [], False
            return events
        if tok.is_special(token_id):
            return [Malformed(f"The model wrote the control token {tok.special_name(token_id)} inside a "
                              "message; it is left out.")]
        return self._delta(self._text.add(token_id))

    def _delta(self, text: str) -> list[ParserEvent]:
        if not text:
            return []
        message = self._current
        message.text += text
        return [TextDelta(message.channel, text, message.recipient)]

    def _close(self) -> list[ParserEvent]:
        events = self._delta(self._text.finish())
        message, self._current = self._current, None
        self.messages.append(message)
        events.append(MessageEnded(message.channel, message.text, message.recipient))
        if message.recipient:
            events.append(ToolCall(message.recipient, message.text, message.content_type))
        return events

    def _end_turn(self, how: str) -> list[ParserEvent]:
        self._state, self.turn_ended = "ended", True
        return [TurnEnded(how)]


def _read_header(text: str) -> tuple[str | None, str | None, str | None]:
    """(recipient, channel, content type) of a header without its role. The recipient may stand
    before the channel (`to=python<|channel|>analysis code`, the reference renderer's order) or after
    it (`<|channel|>analysis to=python code`, what gpt-oss usually writes); the content type is
    `<|constrain|>json`, or a bare word (`code`, `json`) anywhere but in the recipient's place."""
    recipient, channel, constrain = _RECIPIENT.search(text), _CHANNEL.search(text), _CONSTRAIN.search(text)
    if constrain is not None:
        content_type: str | None = f"<|constrain|>{constrain.group(1)}"
    else:
        rest = text
        for found in (recipient, channel):
            if found is not None:
                rest = rest.replace(found.group(0), " ", 1)
        words = rest.split()
        content_type = words[0] if words else None
    return (recipient.group(1) if recipient else None, channel.group(1) if channel else None, content_type)
