"""core/engine/token_loop.py: ids in, ids out, and why the loop ended."""

from __future__ import annotations

import threading

import torch

from core.engine.sampling import Sampler, SamplingParams
from core.engine.token_loop import decode

V = 16
GREEDY = Sampler(SamplingParams(temperature=0.0))


class Counting:
    """Logits that point at the fed token + 1: the loop writes 1, 2, 3 ..."""

    def __init__(self, max_tokens: int = 100):
        self.tokens: list[int] = [0]
        self.max_tokens = max_tokens

    def feed(self, ids):
        self.tokens += list(ids)
        return self.logits(ids[-1] + 1)

    @staticmethod
    def logits(token):
        out = torch.zeros(V)
        out[token % V] = 1.0
        return out


def run(session, stop=(), max_new=50, cancel=None, stop_reading_at=None):
    loop = decode(session, session.logits(1), GREEDY, stop=stop, max_new_tokens=max_new,
                  cancel=cancel or threading.Event())
    seen = []
    try:
        while True:
            seen.append(next(loop))
            if stop_reading_at is not None and seen[-1] == stop_reading_at:
                return seen, "reader"
    except StopIteration as end:
        return seen, end.value


def test_a_stop_token_ends_the_loop_and_is_not_fed():
    session = Counting()
    assert run(session, stop={4}) == ([1, 2, 3, 4], "stop")
    assert session.tokens == [0, 1, 2, 3]


def test_the_length_limit():
    assert run(Counting(), max_new=3) == ([1, 2, 3], "length")


def test_a_cancel_set_while_a_token_is_shown_costs_no_further_step():
    cancel, session = threading.Event(), Counting()
    loop = decode(session, session.logits(1), GREEDY, stop=(), max_new_tokens=50, cancel=cancel)
    assert next(loop) == 1
    cancel.set()
    try:
        next(loop)
    except StopIteration as end:
        assert end.value == "cancelled"
    assert session.tokens == [0]


def test_a_full_context_ends_the_loop():
    assert run(Counting(max_tokens=4)) == ([1, 2, 3, 4], "full")


def test_the_reader_may_stop_on_its_own():
    assert run(Counting(), stop_reading_at=2) == ([1, 2], "reader")
