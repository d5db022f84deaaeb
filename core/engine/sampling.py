"""Choosing the next token from the model's logits: temperature, top-p (nucleus) and a seed.

Temperature 0 is greedy (the most likely token; ties go to the lowest id). Otherwise the
draw is inverse-CDF on one uniform number from a seeded `torch.Generator`, so a given seed
always gives the same tokens for the same logits, and tests can compute the expected token.

`Sampler` takes logits on the processor and returns an int. `DeviceSampler` is the same
choice as a tensor op on the logits' own device (core/engine/device_loop.py's GPU path):
the token stays there as a 0-dim tensor, and nothing waits for the GPU. Its uniform numbers
come from the same seeded CPU generator, drawn ahead in batches, so for the same logits and
seed both samplers choose the same tokens (on a GPU, up to cumsum's summation order).
Shapes: V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import InvalidInput


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0  # gpt-oss's recommended setting, with top_p 1.0
    top_p: float = 1.0
    seed: int | None = None  # None: a fresh random seed per Sampler

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 100.0:
            raise InvalidInput(f"Temperature must be between 0 and 100, not {self.temperature}.")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInput(f"Top-p must be above 0 and at most 1, not {self.top_p}.")


class Sampler:
    """Draws tokens for one generation; owns its random generator."""

    def __init__(self, params: SamplingParams):
        self.params = params
        self.generator = seeded_generator(params.seed)

    def __call__(self, logits: torch.Tensor) -> int:
        if self.params.temperature == 0.0:
            return greedy(logits)
        probs = probabilities(logits, self.params.temperature, self.params.top_p)
        u = float(torch.rand((), generator=self.generator, dtype=torch.float64))
        return draw(probs, u)


def seeded_generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with `seed`, or with a fresh random seed for None."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def greedy(logits: torch.Tensor) -> int:
    # argmax returns the first maximum, i.e. the lowest id among ties.
    return int(torch.argmax(logits))


def probabilities(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """float64 [V]: softmax(logits / temperature) restricted to the top-p nucleus, renormalized.

    The nucleus is the smallest set of most likely tokens whose probabilities sum to at least
    `top_p` (the token that crosses the line is kept)."""
    probs = torch.softmax(logits.to(torch.float64) / temperature, dim=-1)  # [V]
    if top_p >= 1.0:
        return probs
    sorted_probs, order = torch.sort(probs, descending=True, stable=True)  # [V], [V]
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the more likely tokens
    # masked_fill, not boolean indexing: that would ask the device how many tokens drop out.
    sorted_probs.masked_fill_(before >= top_p, 0.0)
    kept = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return kept / kept.sum()


def draw(probs: torch.Tensor, u: float) -> int:
    """The token whose cumulative-probability interval contains `u` in [0, 1)."""
    return int(draw_tensor(probs, torch.tensor(u, dtype=torch.float64, device=probs.device)))


def draw_tensor(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """`draw` on the probabilities' device: `u` a 0-dim float64 tensor there; returns a 0-dim
    int64 tensor, with no value read back to the host."""
    cdf = torch.cumsum(probs, dim=-1)  # [V]
    index = torch.searchsorted(cdf, (u * cdf[-1]).reshape(1), right=True)[0]
    # Rounding may leave u * total at or past the end: then the last token that can be drawn.
    last = len(probs) - 1 - torch.argmax(torch.flip(probs > 0, (0,)).to(torch.int32))
    return torch.where(index >= len(probs), last, index)


class DeviceSampler:
    """`Sampler` on the logits' device: returns the token as a 0-dim int64 tensor there.

    Consumes its generator exactly as `Sampler` does (one float64 draw per non-greedy token),
    so the same seed gives the same tokens; the draws go to the device BATCH at a time."""

    BATCH = 256

    def __init__(self, params: SamplingParams, device):
        self.params = params
        self.device = torch.device(device)
        self.generator = seeded_generator(params.seed)
        self._u = torch.empty(0, dtype=torch.float64)
        self._used = 0

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if self.params.temperature == 0.0:
            return torch.argmax(logits)  # the first maximum: the lowest id among ties, as `greedy`
        probs = probabilities(logits, self.params.temperature, self.params.top_p)
        return draw_tensor(probs, self._next_u())

    def _next_u(self) -> torch.Tensor:
        if self._used == len(self._u):
            # One scalar draw at a time, as Sampler draws them, so both read the same sequence.
            batch = torch.tensor([float(torch.rand((), generator=self.generator, dtype=torch.float64))
                                  for _ in range(self.BATCH)], dtype=torch.float64)
            if self.device.type == "cuda":  # pinned, so the copy does not wait for the GPU
                batch = batch.pin_memory()
            self._u = batch.to(self.device, non_blocking=True)
            self._used = 0
        self._used += 1
        return self._u[self._used - 1]
