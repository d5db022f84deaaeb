"""The small frozen events a chat turn streams to its reader (terminal, desktop window, tests).

The harmony parser produces the message events; `generate` adds `PromptProgress`, `Speed`,
`Notice`, `TokenLogprob` (when asked) and `Finished`; the built-in tools' turn loop
(core/chat/tool_turns.py) adds `ToolRunning` and `ToolResult` between the model's steps.
core/chat/answer.py turns them into the answer, for every front end.
A reader can `match` on the class and ignore what it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.chat.builtin_tools import is_builtin

FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True)
class MessageStarted:
    """The model opened a message on `channel` (analysis / commentary / final)."""

    channel: str
    recipient: str | None = None  # e.g. "functions.get_weather" or "browser.search" for a tool call
    content_type: str | None = None


@dataclass(frozen=True)
class TextDelta:
    """New text of the current message; never half a UTF-8 character."""

    channel: str
    text: str
    recipient: str | None = None


@dataclass(frozen=True)
class MessageEnded:
    """The message on `channel` is complete; `text` is all of it."""

    channel: str
    text: str
    recipient: str | None = None


@dataclass(frozen=True)
class ToolCall:
    """The model asks for a tool: `recipient` is e.g. "functions.get_weather", or a built-in's
    "browser.search" or "python"; `arguments` the JSON text it wrote, or the code for python (not
    validated: the caller decides what to do with bad JSON)."""

    recipient: str
    arguments: str
    content_type: str | None = None

    @property
    def name(self) -> str:
        """The function's name ("get_weather"), or the built-in call's whole name ("browser.search")."""
        return self.recipient.removeprefix("functions.")

    @property
    def builtin(self) -> bool:
        """A call to one of gpt-oss's built-in tools, which the turn answers itself, never the caller."""
        return is_builtin(self.recipient)


@dataclass(frozen=True)
class ToolRunning:
    """A built-in tool is running the call the model just made (the `ToolCall` before this):
    `name` is "browser.search", "python" ...; a `ToolResult` always follows, also after a Stop.
    A front end shows it folded, as it shows the reasoning."""

    name: str
    arguments: str


@dataclass(frozen=True)
class ToolResult:
    """What the built-in tool answered, exactly as the model reads it in its next step; `ran` is
    False when the call was answered without running (a tool this chat does not offer, or one
    call past the answer's limit)."""

    name: str
    text: str
    seconds: float = 0.0
    ran: bool = True


@dataclass(frozen=True)
class TurnEnded:
    """The model ended its turn: "return" (answer done), "call" (waits for a tool result) or
    "endoftext"."""

    how: Literal["return", "call", "endoftext"]


@dataclass(frozen=True)
class Malformed:
    """The model's output broke the harmony format; the text says how. Parsing goes on."""

    problem: str


@dataclass(frozen=True)
class TokenLogprob:
    """Sent before the text of each answer token when log-probabilities were asked for: the
    token's text and bytes, its log-probability under the model, and the most likely
    alternatives at that step (`top`: (text, bytes, logprob) each, most likely first)."""

    text: str
    data: bytes
    logprob: float
    top: tuple[tuple[str, bytes, float], ...] = ()


@dataclass(frozen=True)
class PromptProgress:
    """Reading a long prompt: `done` of the `total` new prompt tokens are processed (the part
    already in the cache is not counted). Sent only when the prompt takes several steps."""

    done: int
    total: int


@dataclass(frozen=True)
class Speed:
    """The answer's decode speed so far, measured by the core (not estimated from text): sent
    about twice a second while the answer is written; `Finished` has the final figure."""

    generated_tokens: int
    tokens_per_second: float


@dataclass(frozen=True)
class Notice:
    """Something the person should know about this turn (e.g. old turns were dropped)."""

    text: str
    dropped_turns: int = 0


@dataclass(frozen=True)
class Finished:
    """Always the last event of a turn."""

    reason: FinishReason
    prompt_tokens: int  # the whole prompt
    reused_tokens: int  # of which were already in the KV cache (not computed again)
    generated_tokens: int
    prompt_tokens_per_second: float  # over the tokens actually computed
    decode_tokens_per_second: float
    time_to_first_token: float  # seconds from the call to the first sampled token
    error: str | None = None  # a sentence for a person when reason == "error"


ParserEvent = MessageStarted | TextDelta | MessageEnded | ToolCall | TurnEnded | Malformed
Event = ParserEvent | TokenLogprob | PromptProgress | Speed | Notice | ToolRunning | ToolResult | Finished
