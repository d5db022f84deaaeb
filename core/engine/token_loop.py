"""The token loop: ids only. Sample the next token from the logits, hand it to the reader, feed
it back, until a stop token, the length limit, a cancel or a full context. Nothing here knows
the chat format; core/chat/generate.py renders the prompt, parses what comes out and measures
the turn around this loop.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Generator, Sequence
from typing import Literal, Protocol

import torch

from core.engine.sampling import Sampler

LoopEnd = Literal["stop", "length", "cancelled", "full"]


class Feedable(Protocol):
    """What the loop needs of `core.engine.model.Session`."""

    tokens: list[int]
    max_tokens: int

    def feed(self, token_ids: Sequence[int]) -> torch.Tensor: ...


def decode(session: Feedable, logits: torch.Tensor, sampler: Sampler, *, stop: Collection[int],
           max_new_tokens: int, cancel: threading.Event) -> Generator[int, None, LoopEnd]:
    """Yields each sampled token; returns why it ended. The checks come after the reader has
    seen a token, so a cancel set while it was shown costs no further model step. A reader may
    also just stop iterating (its own end of turn)."""
    generated = 0
    while True:
        token = sampler(logits)
        generated += 1
        yield token
        if token in stop:
            return "stop"
        if generated >= max_new_tokens:
            return "length"
        if cancel.is_set():
            return "cancelled"
        if len(session.tokens) + 1 > session.max_tokens:
            return "full"
        logits = session.feed([token])
