"""GPU memory plan (core.memory_plan): the published models fit the cards they are meant
for, the counts agree with what the engine really allocates, and a card too small is
refused with a sentence a person can act on."""

from __future__ import annotations

import pytest
import torch

from core.checkpoint import read_checkpoint
from core.config import GPT_OSS_20B, GPT_OSS_120B
from core.engine import checkpoint_bytes
from core.errors import NotEnoughMemory
from core.kv_cache import KVCache
from core.memory_plan import GIB, MIN_CONTEXT, fit_context, kv_cache_bytes, largest_context, plan_memory, weights_bytes
from core.testing import tiny_config, write_checkpoint


def test_20b_at_32k_fits_16_gib():
    plan = plan_memory(GPT_OSS_20B, 32768)
    assert plan.total <= 16 * GIB
    assert 12.5 * GIB < plan.weights < 13 * GIB  # the published checkpoint is ~12.8 GiB


def test_120b_at_128k_fits_80_gib():
    plan = plan_memory(GPT_OSS_120B, 131072)
    assert plan.total <= 80 * GIB
    assert 60 * GIB < plan.weights < 61.5 * GIB  # ~60.8 GiB published


def test_sliding_layers_do_not_grow_with_the_context():
    # Doubling the context doubles only the full layers' share (12 of 24 layers in 20b).
    short, long = kv_cache_bytes(GPT_OSS_20B, 65536), kv_cache_bytes(GPT_OSS_20B, 131072)
    assert long - short == pytest.approx(short, rel=0.01)
    per_slot = 2 * 8 * 64 * 2 + 8
    assert kv_cache_bytes(GPT_OSS_20B, 131072) < 131072 * per_slot * 13  # far below 24 full layers


def test_weights_equal_what_the_engine_holds(tmp_path):
    config = tiny_config()
    _, weights = read_checkpoint(write_checkpoint(tmp_path, config))
    assert weights_bytes(config, torch.bfloat16) == checkpoint_bytes(weights)


def test_kv_cache_matches_a_grown_cache():
    config = tiny_config(num_hidden_layers=4, sliding_window=8)
    limit = 1000
    cache = KVCache(config, torch.bfloat16, "cpu", limit)
    k = torch.zeros(100, config.num_key_value_heads, config.head_dim, dtype=torch.bfloat16)
    for start in range(0, limit, 100):
        for layer in cache.layers:
            layer.update(k, k, torch.arange(start, start + 100), limit)
    steady = cache.nbytes()
    planned = kv_cache_bytes(config, limit, torch.bfloat16)
    # the plan adds the old buffer alive while the last full layer doubles (< half of one layer)
    assert steady <= planned <= steady * 1.5


def test_largest_context_is_the_edge_of_what_fits():
    fits = largest_context(GPT_OSS_20B, 16 * GIB)
    assert 32768 <= fits < GPT_OSS_20B.context_length
    assert plan_memory(GPT_OSS_20B, fits).total <= 16 * GIB < plan_memory(GPT_OSS_20B, fits + 1024).total
    assert fit_context(GPT_OSS_20B, 16 * GIB) == fits  # no context asked: as much as fits
    assert fit_context(GPT_OSS_120B, 80 * GIB) == GPT_OSS_120B.context_length


def test_too_small_a_card_is_refused_with_reasons():
    with pytest.raises(NotEnoughMemory, match=r"needs at least .*GiB of weights.* has only 16.0 GiB free"):
        fit_context(GPT_OSS_120B, 16 * GIB, where="the RTX 4080")
    with pytest.raises(NotEnoughMemory, match=r"A context of [\d,]+ tokens would fit"):
        fit_context(GPT_OSS_20B, 16 * GIB, context_length=131072)
    assert largest_context(GPT_OSS_20B, 13 * GIB) < MIN_CONTEXT
