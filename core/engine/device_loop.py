"""The token loop on the model's device: `decode_on_device`, with the contract of
core.engine.token_loop.decode (yields each token id, returns why it ended, leaves the session
exactly as that loop would), but the ids and logits stay on the GPU and the host never
waits for it between tokens.

Each token is sampled on the device (`DeviceSampler`) and fed back from there
(`Session.step_on_device`) before the host reads it: the step for token n+1 is queued while
the host waits for token n and the reader shows it, so the GPU is never idle for the host's
sake. The host learns a token from a pinned copy and an event recorded right after its
sampling. The price is one step computed ahead: when the reader turns out not to want it
(a stop token, a cancel, or a reader that stops iterating), the session takes that step back
exactly (KVCache.forget_last), at once or on its next call.

How core/chat/generate.py would use it, once bench/gpu_check.sh has passed on a GPU and
`Model.cuda_graphs` is switched on (HEARTH_CUDA_GRAPHS=1): where `session.cuda_graphs` is
true and the turn needs nothing of the logits on the processor (no structure, no logit bias,
no logprobs, no reasoning budget: `_Chooser` reads them per token), `prefill` feeds the
prompt's body with `session.extend` (no logits, which it drops anyway) and its last token with
`session.feed_on_device` instead of `session.feed`, and `stream` builds its loop as

    loop = decode_on_device(session, logits, DeviceSampler(settings.sampling, logits.device),
                            stop=tokenizer.stop_tokens, max_new_tokens=settings.max_new_tokens, cancel=cancel)

The rest of `stream` is unchanged: the loop yields ints as before. (A logit bias could
move to the device as one index_add_, a grammar's mask as a bool tensor per token.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Generator
from typing import Protocol

import torch

from core.engine.sampling import DeviceSampler
from core.engine.token_loop import LoopEnd


class DeviceFeedable(Protocol):
    """What the loop needs of `core.engine.model.Session`."""

    tokens: list[int]
    max_tokens: int

    def step_on_device(self, token: torch.Tensor) -> torch.Tensor: ...
    def confirm(self, token_id: int) -> None: ...
    def take_back(self) -> None: ...


def decode_on_device(session: DeviceFeedable, logits: torch.Tensor, sampler: DeviceSampler, *,
                     stop: Collection[int], max_new_tokens: int,
                     cancel: threading.Event) -> Generator[int, None, LoopEnd]:
    """Yields each sampled token; returns why it ended. `logits`: float32 [V] on the device
    (Session.feed_on_device). The checks come after the reader has seen a token, as in
    token_loop.decode."""
    to_host = _HostCopies(logits.device)
    generated = 0
    token = sampler(logits)                                   # 0-dim, on the device
    value = to_host.send(token)
    while True:
        # Feed the token ahead only where the CPU loop would feed it if the reader asks for
        # more: the limits are known here; a stop token or a cancel only once it is read.
        ahead = generated + 1 < max_new_tokens and len(session.tokens) + 1 <= session.max_tokens
        if ahead:
            next_token = sampler(session.step_on_device(token))
            next_value = to_host.send(next_token)
        token_id = value()                                    # waits for this token's sampling only
        generated += 1
        yield token_id
        if token_id in stop:
            end: LoopEnd = "stop"
        elif generated >= max_new_tokens:
            end = "length"
        elif cancel.is_set():
            end = "cancelled"
        elif not ahead:
            end = "full"
        else:
            session.confirm(token_id)
            token, value = next_token, next_value
            continue
        if ahead:
            session.take_back()
        return end


class _HostCopies:
    """Token ids copied to the host behind the device's back: on CUDA, a pinned slot and an
    event per token in flight (two at most: the one being read, the one sampled ahead)."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        if self.cuda:
            self.slots = [torch.empty(1, dtype=torch.int64, pin_memory=True) for _ in range(2)]
            self.events = [torch.cuda.Event() for _ in range(2)]
            self.turn = 0

    def send(self, token: torch.Tensor) -> Callable[[], int]:
        """Starts copying `token` to the host; the returned function waits for it and gives its value."""
        if not self.cuda:
            return lambda: int(token)
        slot, event = self.slots[self.turn], self.events[self.turn]
        self.turn ^= 1
        slot.copy_(token.reshape(1), non_blocking=True)
        event.record()

        def value() -> int:
            event.synchronize()
            return int(slot[0])

        return value
