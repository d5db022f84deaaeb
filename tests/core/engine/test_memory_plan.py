"""GPU memory plan (core.engine.memory_plan): the published models fit the cards they are meant
for, the counts agree with what the engine really allocates, and a card too small is
refused with a sentence a person can act on."""

from __future__ import annotations

import pytest
import torch

from core.engine.checkpoint import read_checkpoint
from core.engine.config import GPT_OSS_20B, GPT_OSS_120B
from core.engine.kv_cache import KVCache
from core.engine.memory_plan import (
    MIN_CONTEXT,
    fit_context,
    kv_cache_bytes,
    kv_growth_bytes,
    largest_context,
    plan_memory,
    weights_bytes,
    workspace_bytes,
)
from core.engine.model import checkpoint_bytes
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import NotEnoughMemory
from core.units import GIB


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
    per_slot = 2 * 8 * 64 * 2 + 8  # k, v (8 kv heads x 64, bf16) and an int64 position
    assert kv_cache_bytes(GPT_OSS_20B, 100) == 24 * 100 * per_slot
    assert kv_cache_bytes(GPT_OSS_20B, 131072) == (12 * 128 + 12 * 131072) * per_slot  # ~3.0 GiB
    short, long = kv_cache_bytes(GPT_OSS_20B, 65536), kv_cache_bytes(GPT_OSS_20B, 131072)
    assert long - short == 12 * 65536 * per_slot


def test_weights_equal_what_the_engine_holds(tmp_path):
    config = tiny_config()
    _, weights = read_checkpoint(write_checkpoint(tmp_path, config))
    assert weights_bytes(config, torch.bfloat16) == checkpoint_bytes(weights)


def test_dtypes_by_name_count_as_torch_dtypes():
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        name = str(dtype).removeprefix("torch.")
        assert weights_bytes(GPT_OSS_20B, name) == weights_bytes(GPT_OSS_20B, dtype)
        assert kv_cache_bytes(GPT_OSS_20B, 4096, name) == kv_cache_bytes(GPT_OSS_20B, 4096, dtype)
        assert workspace_bytes(GPT_OSS_20B, 4096, name) == workspace_bytes(GPT_OSS_20B, 4096, dtype)


@pytest.mark.parametrize("limit", [200, 256, 1000, 1024])
def test_kv_cache_is_what_the_cache_allocates(limit):
    # CUDA's static layout allocates it all up front; the CPU's growing one reaches it when full.
    config = tiny_config(num_hidden_layers=4, sliding_window=8)
    assert KVCache(config, torch.bfloat16, "cpu", limit, static=True).nbytes() == kv_cache_bytes(config, limit)
    growing = KVCache(config, torch.bfloat16, "cpu", limit, static=False)
    k = torch.zeros(100, config.num_key_value_heads, config.head_dim, dtype=torch.bfloat16)
    for start in range(0, limit, 100):
        n = min(100, limit - start)
        for layer in growing.layers:
            layer.update(k[:n], k[:n], torch.arange(start, start + n), limit)
    assert growing.nbytes() == kv_cache_bytes(config, limit)


@pytest.mark.parametrize("limit", [200, 256, 257, 1000, 1024, 1500])
def test_kv_growth_is_the_largest_buffer_left_behind(monkeypatch, limit):
    # While a growing full layer doubles, its old v and positions are alive beside the new ones.
    config = tiny_config(num_hidden_layers=4, sliding_window=8)
    cache = KVCache(config, torch.bfloat16, "cpu", limit, static=False)
    old_capacities = [0]
    grow = type(cache.layers[1])._grow

    def recording(layer, capacity):
        old_capacities.append(len(layer.positions))
        grow(layer, capacity)

    monkeypatch.setattr(type(cache.layers[1]), "_grow", recording)
    k = torch.zeros(1, config.num_key_value_heads, config.head_dim, dtype=torch.bfloat16)
    for position in range(limit):  # one token at a time: every doubling step is taken
        for layer in cache.layers:
            layer.update(k, k, torch.tensor([position]), limit)
    slot = config.num_key_value_heads * config.head_dim * 2 + 8
    assert kv_growth_bytes(config, limit) == max(old_capacities) * slot


def test_the_cpu_plan_counts_the_growing_cache():
    static, growing = plan_memory(GPT_OSS_20B, 131072), plan_memory(GPT_OSS_20B, 131072, static_cache=False)
    assert growing.kv_cache == static.kv_cache
    assert growing.workspace - static.workspace == 65536 * (8 * 64 * 2 + 8)  # 64.5 MiB


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
