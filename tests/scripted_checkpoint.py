"""A tiny gpt-oss checkpoint whose output follows a script, for end-to-end tests and benchmarks
of chat (terminal, generation, cache reuse) through the real loading and model code.

Every expert weight is zero, and so is every attention weight unless the script has rounds, so
each block adds nothing to the residual stream and the logits depend on the last token only: a
bigram table written into the embedding and `lm_head`. The files keep the published layout and
the full o200k_harmony vocabulary. Shapes: D hidden, V vocabulary, H heads, hd head dim.

A turn with built-in tool calls is generated in rounds (the model calls, the tool answers, the
model goes on), and every round starts after the same `<|start|>assistant`: a bigram would write
the same round forever. `Rounds` gives chosen tokens a successor per round, where a round is the
number of `<|call|>` tokens (the marker) in the context so far. One attention head per such token
counts them (see `_count_heads`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import torch

from core.engine.config import ModelConfig
from core.engine.testing import random_weights, tiny_config, write_checkpoint

_SURE = 10.0  # logit scale: after the final norm the chosen token's logit is 10 * sqrt(D)
_ROUND_SPREAD = 288.0  # how far apart the per-round successors' logits are (bf16-exact lines below)
_COUNT_SCORE = 50.0  # attention score of a counted token (and of the reference) for a counting head
_COUNT_SINK = 25.0  # far below the score, far above the other tokens' (0): dilutes nothing, hides a head


@dataclass(frozen=True)
class Rounds:
    """Successors that depend on the round: `successors[t][k]` follows `t` when the context holds
    `k` `marker` tokens. `reference` must stand once in every prompt (the system message's role,
    `system`): the counting heads weigh the markers against it."""

    successors: Mapping[int, tuple[int, ...]]
    marker: int
    reference: int


def write_scripted_checkpoint(folder: str | Path, next_token: dict[int, int], *, default: int,
                              config: ModelConfig | None = None, rounds: Rounds | None = None) -> Path:
    """Writes a checkpoint whose most likely next token after `t` is `next_token[t]` (or, for a
    token of `rounds`, its successor in the current round), and `default` after any other token.
    At most D - 1 distinct keys; a token of `rounds` takes two axes, the marker and the reference
    one each, and there are at most H such tokens."""
    config = config or tiny_config(vocab_size=201088)
    hidden = config.hidden_size
    counted = dict(rounds.successors) if rounds else {}
    extra = (2 * len(counted) + 2) if rounds else 0
    if len(next_token) + extra > hidden - 1:
        raise ValueError(f"a {hidden}-wide model holds at most {hidden - 1} scripted tokens (and axes)")
    if len(counted) > config.num_attention_heads:
        raise ValueError(f"at most {config.num_attention_heads} tokens may depend on the round")
    if rounds and ({rounds.marker, rounds.reference} | set(counted)) & set(next_token):
        raise ValueError("a token depends on the round, or is the marker or the reference, and is also scripted")
    tensors = {name: torch.zeros_like(t) for name, t in random_weights(config).items()}
    for name, tensor in tensors.items():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            tensor.fill_(1.0)
        elif name.endswith("_scales"):
            tensor.fill_(127)  # E8M0 for 2^0; the codes are all zero anyway
    embed = tensors["model.embed_tokens.weight"]  # [V, D]
    lm_head = tensors["lm_head.weight"]  # [V, D]
    embed[:, hidden - 1] = 1.0  # every token not in the script points along the last axis
    lm_head[default, hidden - 1] = _SURE
    for axis, (token, following) in enumerate(next_token.items()):
        embed[token] = 0.0
        embed[token, axis] = 1.0
        lm_head[following, axis] = _SURE
    if rounds:
        _count_heads(tensors, config, rounds, first_axis=len(next_token), default=default)
    return write_checkpoint(folder, config, tensors=tensors)


def _count_heads(tensors: dict[str, torch.Tensor], config: ModelConfig, rounds: Rounds, *, first_axis: int,
                 default: int) -> None:
    """In the last (full-attention) layer, head j belongs to the j-th token of `rounds`: only that
    token asks (its query), the marker and the reference answer (keys, equal scores), and only the
    marker has a value. So at that token the head reads k / (k + 1) for k markers, and writes it on
    the token's count axis; anywhere else the sink takes the attention and the head reads ~0.
    lm_head then draws, per successor, a line in that count: chords of the parabola c^2 through
    the rounds the successor covers, so the right one is highest in each round."""
    hidden, hd = config.hidden_size, config.head_dim
    layer = f"model.layers.{config.num_hidden_layers - 1}.self_attn."
    if config.is_sliding(config.num_hidden_layers - 1):
        raise ValueError("the last layer must attend to the whole context")
    embed, lm_head = tensors["model.embed_tokens.weight"], tensors["lm_head.weight"]
    q, k, v, o = (tensors[layer + f"{n}_proj.weight"] for n in "qkvo")
    axes = iter(range(first_axis, hidden - 1))
    scale = math.sqrt(hidden)  # the layer's norm makes a one-hot embedding sqrt(D) long
    # Query and key on the slowest rotary pair (positions barely turn it), the value on dim 0.
    slow, amplitude = hd - 1, math.sqrt(_COUNT_SCORE * math.sqrt(hd)) / config.rope_attention_factor
    for token in (rounds.marker, rounds.reference):
        axis = next(axes)
        embed[token] = 0.0
        embed[token, axis] = 1.0
        lm_head[default, axis] = _SURE
        for kv in range(config.num_key_value_heads):
            k[kv * hd + slow, axis] = amplitude / scale
            if token == rounds.marker:
                v[kv * hd, axis] = 1.0 / scale
    tensors[layer + "sinks"].fill_(_COUNT_SINK)
    for head, (token, successors) in enumerate(rounds.successors.items()):
        axis, count_axis = next(axes), next(axes)
        embed[token] = 0.0
        embed[token, axis] = 1.0
        q[head * hd + slow, axis] = amplitude / scale
        o[count_axis, head * hd] = 1.0
        for following, first, last in _runs(successors):
            low, high = first / (first + 1), last / (last + 1)
            lm_head[following, axis] = _SURE - _ROUND_SPREAD * low * high
            lm_head[following, count_axis] = _ROUND_SPREAD * (low + high)


def _runs(successors: Sequence[int]) -> list[tuple[int, int, int]]:
    """(token, first round, last round) for each stretch of rounds with the same successor."""
    runs: list[tuple[int, int, int]] = []
    for k, token in enumerate(successors):
        if runs and runs[-1][0] == token:
            runs[-1] = (token, runs[-1][1], k)
        else:
            if any(r[0] == token for r in runs):
                raise ValueError(f"token {token} follows in rounds that are not one stretch")
            runs.append((token, k, k))
    return runs


def script_transitions(tokens: Sequence[int]) -> dict[int, int]:
    """{token: the token after it} for a script; each token may have only one successor."""
    table: dict[int, int] = {}
    for token, following in pairwise(tokens):
        if table.setdefault(token, following) != following:
            raise ValueError(f"token {token} is followed by both {table[token]} and {following}")
    return table


def script_rounds(rounds: Sequence[Sequence[int]], *, marker: int, reference: int) -> tuple[dict[int, int], Rounds]:
    """(plain transitions, round-dependent ones) for a turn in rounds: round k is the tokens from
    the prompt's last one (`assistant`) to the round's end (`marker` for a call). A token followed
    by different tokens in different rounds depends on the round; within a round each token may
    have only one successor."""
    seen: dict[int, dict[int, int]] = {}
    for k, tokens in enumerate(rounds):
        for token, following in script_transitions(tokens).items():
            seen.setdefault(token, {})[k] = following
    plain = {t: next(iter(by.values())) for t, by in seen.items() if len(set(by.values())) == 1}
    varying = {}
    for token, by in seen.items():
        if token not in plain:  # rounds without the token take the successor of the round before
            first = by[min(by)]
            varying[token] = tuple(first := by.get(k, first) for k in range(len(rounds)))
    return plain, Rounds(varying, marker, reference)
