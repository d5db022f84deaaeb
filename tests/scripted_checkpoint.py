"""A tiny gpt-oss checkpoint whose output follows a script, for end-to-end tests and benchmarks
of chat (terminal, generation, cache reuse) through the real loading and model code.

Every attention and expert weight is zero, so each block adds nothing to the residual stream
and the logits depend on the last token only: a bigram table written into the embedding and
`lm_head`. The files keep the published layout and the full o200k_harmony vocabulary.
Shapes: D hidden, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import torch

from core.engine.config import ModelConfig
from core.engine.testing import random_weights, tiny_config, write_checkpoint

_SURE = 10.0  # logit scale: after the final norm the chosen token's logit is 10 * sqrt(D)


def write_scripted_checkpoint(folder: str | Path, next_token: dict[int, int], *, default: int,
                              config: ModelConfig | None = None) -> Path:
    """Writes a checkpoint whose most likely next token after `t` is `next_token[t]`, and
    `default` after any other token. At most D - 1 distinct keys."""
    config = config or tiny_config(vocab_size=201088)
    hidden = config.hidden_size
    if len(next_token) > hidden - 1:
        raise ValueError(f"a {hidden}-wide model holds at most {hidden - 1} scripted tokens")
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
    return write_checkpoint(folder, config, tensors=tensors)


def script_transitions(tokens: Sequence[int]) -> dict[int, int]:
    """{token: the token after it} for a script; each token may have only one successor."""
    table: dict[int, int] = {}
    for token, following in pairwise(tokens):
        if table.setdefault(token, following) != following:
            raise ValueError(f"token {token} is followed by both {table[token]} and {following}")
    return table
