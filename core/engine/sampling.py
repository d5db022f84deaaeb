"""Choosing the next token from the model's logits: temperature, top-p (nucleus) and a seed.

Temperature 0 is greedy (the most likely token; ties go to the lowest id). Otherwise the
draw is inverse-CDF on one uniform number from a seeded `torch.Generator`, so a given seed
always gives the same tokens for the same logits, and tests can compute the expected token.
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
        self.generator = torch.Generator()
        if params.seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(params.seed)

    def __call__(self, logits: torch.Tensor) -> int:
        if self.params.temperature == 0.0:
            return greedy(logits)
        probs = probabilities(logits, self.params.temperature, self.params.top_p)
        u = float(torch.rand((), generator=self.generator, dtype=torch.float64))
        return draw(probs, u)


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
    sorted_probs[before >= top_p] = 0.0
    kept = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return kept / kept.sum()


def draw(probs: torch.Tensor, u: float) -> int:
    """The token whose cumulative-probability interval contains `u` in [0, 1)."""
    cdf = torch.cumsum(probs, dim=-1)  # [V]
    index = int(torch.searchsorted(cdf, torch.tensor([u * float(cdf[-1])], dtype=cdf.dtype), right=True))
    if index >= len(probs):  # rounding left u * total at or past the end: the last possible token
        index = int(torch.nonzero(probs)[-1])
    return index
