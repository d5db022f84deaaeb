"""core/engine/device_loop.py against core/engine/token_loop.py on the same model: the same
tokens, the same reason to stop, and a session left exactly as the processor's loop leaves
it (its tokens, and the logits of whatever is fed next), although the device loop feeds
each token one step ahead and takes that step back when the reader does not want it.

Runs on CPU tensors (float32, torch backend) here, and also on CUDA where there is one
(bench/gpu_check.sh runs this file when pytest is installed there). No conftest fixtures and
no files: the model is made in memory (core.engine.testing.random_model).
"""

from __future__ import annotations

import threading

import pytest
import torch

from core.engine.device_loop import decode_on_device
from core.engine.sampling import DeviceSampler, Sampler, SamplingParams
from core.engine.testing import random_model, tiny_config
from core.engine.token_loop import decode
from core.errors import ContextOverflow

CONFIG = tiny_config(num_hidden_layers=3, sliding_window=6)
PROMPT = [5, 17, 300, 2, 99, 41, 7, 250, 13]  # longer than the sliding window: the rings have wrapped
CONTINUATION = [11, 12, 13, 14, 15, 16, 17, 18]
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
PARAMS = SamplingParams(temperature=1.0, seed=123)


@pytest.fixture(scope="module", params=DEVICES)
def model(request):
    return random_model(CONFIG, request.param, torch.float32, backend="torch", seed=4)


def run_loop(loop, read_at_most: int | None = None, cancel_after: int | None = None, cancel=None):
    seen = []
    try:
        while True:
            if read_at_most is not None and len(seen) == read_at_most:
                return seen, "reader"
            seen.append(next(loop))
            if cancel_after is not None and len(seen) == cancel_after:
                cancel.set()
    except StopIteration as end:
        return seen, end.value


def both(model, max_tokens=64, **loop_args):
    """(tokens, end, session) of the processor's loop, then of the device loop, from one prompt."""
    reader = {k: loop_args.pop(k) for k in ("read_at_most", "cancel_after") if k in loop_args}
    results = []
    for on_device in (False, True):
        session = model.new_session(max_tokens, static_cache=True)
        cancel = threading.Event()
        if on_device:
            logits = session.feed_on_device(PROMPT)
            loop = decode_on_device(session, logits, DeviceSampler(PARAMS, model.device), cancel=cancel, **loop_args)
        else:
            logits = session.feed(PROMPT)
            loop = decode(session, logits, Sampler(PARAMS), cancel=cancel, **loop_args)
        tokens, end = run_loop(loop, cancel=cancel, **reader)
        results.append((tokens, end, session))
    return results


def assert_same_state(a, b):
    """Same tokens taken in, and the same logits for whatever comes next (same cache)."""
    assert a.tokens == b.tokens
    room = a.max_tokens - a.position
    if room:
        more = CONTINUATION[:room]
        assert torch.equal(a.feed(more), b.feed(more))
        if room > len(more):
            assert torch.equal(a.feed([3]), b.feed([3]))


def test_length_limit(model):
    (t1, e1, s1), (t2, e2, s2) = both(model, stop=(), max_new_tokens=7)
    assert (t2, e2) == (t1, e1) and e1 == "length" and len(t1) == 7
    assert_same_state(s1, s2)


def test_stop_token_is_not_fed(model):
    (free, _, _), _ = both(model, stop=(), max_new_tokens=12)
    at = next(i for i in range(3, 12) if free[i] not in free[:i])  # a token not seen before
    (t1, e1, s1), (t2, e2, s2) = both(model, stop={free[at]}, max_new_tokens=12)
    assert (t2, e2) == (t1, e1) == (free[:at + 1], "stop")
    assert_same_state(s1, s2)


def test_full_context(model):
    (t1, e1, s1), (t2, e2, s2) = both(model, max_tokens=len(PROMPT) + 4, stop=(), max_new_tokens=50)
    assert (t2, e2) == (t1, e1) and e1 == "full" and len(t1) == 5
    assert s2.position == s2.max_tokens
    assert_same_state(s1, s2)


def test_cancel_set_while_a_token_is_shown(model):
    (t1, e1, s1), (t2, e2, s2) = both(model, stop=(), max_new_tokens=50, cancel_after=3)
    assert (t2, e2) == (t1, e1) == (t1[:3], "cancelled")
    assert_same_state(s1, s2)


def test_a_reader_that_stops_iterating(model):
    # The device loop has fed the third token ahead; the session's next call takes it back.
    (t1, e1, s1), (t2, e2, s2) = both(model, stop=(), max_new_tokens=50, read_at_most=3)
    assert (t2, e2) == (t1, e1)
    assert s2.position == s1.position == len(PROMPT) + 2
    assert_same_state(s1, s2)


def test_mark_and_rewind_after_a_step_taken_back(model):
    (_, _, s1), (_, _, s2) = both(model, stop=(), max_new_tokens=50, read_at_most=4)
    for s in (s1, s2):
        s.mark()
        s.feed(CONTINUATION)
        assert s.rewind(len(PROMPT) + 3) == len(PROMPT) + 3
    assert_same_state(s1, s2)


def test_feed_on_device_is_feed(model):
    a, b = model.new_session(static_cache=True), model.new_session(static_cache=True)
    on_device = b.feed_on_device(PROMPT)
    assert on_device.device == model.device and on_device.dtype == torch.float32
    assert torch.equal(a.feed(PROMPT), on_device.cpu())
    assert a.tokens == b.tokens == PROMPT


def test_extend_is_feed_without_the_logits(model):
    a, b = model.new_session(static_cache=True), model.new_session(static_cache=True)
    a.feed(PROMPT)
    assert b.extend(PROMPT) is None
    assert a.tokens == b.tokens == PROMPT
    assert torch.equal(a.feed(CONTINUATION), b.feed(CONTINUATION))


def test_take_back_is_exact_across_the_ring():
    # Steps taken back at every position past the window: each overwrote a ring slot whose key
    # the next queries no longer see, so the logits stay those of a session never stepped ahead.
    model = random_model(CONFIG, "cpu", torch.float32, backend="torch", seed=9)
    plain, stepped = model.new_session(static_cache=True), model.new_session(static_cache=True)
    plain.feed(PROMPT)
    stepped.feed(PROMPT)
    for pair in zip(CONTINUATION[::2], CONTINUATION[1::2], strict=True):
        # A chunk of two attends to the ring and its own keys: a slot left holding the key
        # taken back would show as a second key at the chunk's first position.
        stepped.step_on_device(torch.tensor([200]))
        stepped.take_back()
        assert torch.equal(plain.feed(pair), stepped.feed(pair))


def test_confirm_needs_a_pending_step_and_the_context_has_an_end():
    model = random_model(CONFIG, "cpu", torch.float32, backend="torch", seed=9)
    session = model.new_session(len(PROMPT) + 1)
    session.feed(PROMPT)
    with pytest.raises(RuntimeError, match="no device step is pending"):
        session.confirm(1)
    session.step_on_device(torch.tensor(4))
    session.confirm(4)
    assert session.tokens == [*PROMPT, 4]
    with pytest.raises(ContextOverflow):
        session.step_on_device(torch.tensor(4))
