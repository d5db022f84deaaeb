"""Router and MoE kernels against route_torch / moe_torch under the interpreter.

Inputs are float32 (the interpreter's bf16 arithmetic is wrong, triton-lang/triton#11584);
both sides then compute the same sums in a different order, so the tolerances below are
float32 rounding over the reduction (<= 2880 terms), with ~10x margin.
"""

from __future__ import annotations

import pytest
import torch

from kernels import _moe_triton
from kernels.moe import SWIGLU_ALPHA, moe, moe_torch, route, route_torch
from kernels.testing import assert_close, random_experts

TOP_K = 4


def make(T, D, I, E, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, D, generator=g)
    router_weight = torch.randn(E, D, generator=g) / D ** 0.5
    router_bias = 0.02 * torch.randn(E, generator=g)
    return x, router_weight, router_bias, random_experts(E, D, I, g)


@pytest.mark.parametrize("T", [1, 7, 113])
@pytest.mark.parametrize("E", [4, 32, 128])
def test_route_matches_reference(T, E):
    x, w, b, _ = make(T, 128, 32, E, seed=T + E)
    weights, experts = route(x, w, b, TOP_K)
    want_weights, want_experts = route_torch(x, w, b, TOP_K)
    assert experts.dtype == torch.int64 and weights.dtype == torch.float32
    assert torch.equal(experts, want_experts)             # same experts, same (descending) order
    assert_close(weights, want_weights, 1e-6, 1e-6, "routing weights")  # softmax of 4 float32 values


def test_group_by_expert_lists_each_pair_once_in_single_expert_blocks():
    chosen = torch.tensor([[3, 1, 0, 2], [1, 3, 2, 0], [1, 0, 3, 2]])
    sorted_pair, block_expert = _moe_triton.group_by_expert(chosen, num_experts=5, block_m=16)
    assert sorted(sorted_pair[sorted_pair >= 0].tolist()) == list(range(12))
    for b, expert in enumerate(block_expert.tolist()):
        rows = sorted_pair[b * 16:(b + 1) * 16]
        pairs = rows[rows >= 0]
        if expert < 5:
            assert len(pairs) and (chosen.view(-1)[pairs.long()] == expert).all()
        else:
            assert len(pairs) == 0  # blocks past the last group are empty and exit at once


@pytest.mark.parametrize(("T", "D", "I", "E"), [
    (1, 64, 64, 4),        # decode, fewer experts than the grid would cover
    (7, 2880, 64, 32),     # the real hidden size on gate_up's reduction and down's outputs
    (113, 64, 96, 4),      # prefill: 113 tokens over 4 experts -> 64-row groups, I not a multiple of the tile
    (113, 64, 32, 128),    # prefill over 128 experts: many small groups, most blocks padding
])
def test_moe_matches_reference(T, D, I, E):
    x, w, b, experts = make(T, D, I, E, seed=T * E)
    actual = moe(x, w, b, experts, TOP_K, 7.0)
    expected = moe_torch(x, w, b, experts, TOP_K, 7.0)
    assert_close(actual, expected, 1e-5, 1e-6, f"moe T={T} D={D} I={I} E={E}")


@pytest.mark.parametrize(("T", "I"), [(1, 64), (113, 96)])  # a decode step, a prefill chunk
def test_gpu_tiles_match_reference(T, I):
    # The interpreter runs wide tiles by default (moe_config); the GPU's narrow ones loop
    # over more K steps and output tiles, with partial tiles at the edges: same answer.
    tiles = _moe_triton.moe_config(T, TOP_K, 4, torch.device("cuda"))
    x, w, b, experts = make(T, 256, I, 4, seed=T)
    actual = _moe_triton.moe(x, w, b, experts, TOP_K, 7.0, SWIGLU_ALPHA, config=tiles)
    assert_close(actual, moe_torch(x, w, b, experts, TOP_K, 7.0), 1e-5, 1e-6, f"GPU tiles {tiles}")


# sigmoid(1.702 * gate) of a very negative gate overflows exp() on the way to 0: expected.
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_swiglu_clamp_is_applied():
    # Large activations push gate and linear past the limit: a missing or misplaced clamp
    # (or the halves swapped instead of interleaved) changes the output by O(1).
    x, w, b, experts = make(7, 64, 64, 4, seed=5)
    x = 40 * x
    assert_close(moe(x, w, b, experts, TOP_K, 7.0), moe_torch(x, w, b, experts, TOP_K, 7.0), 1e-5, 1e-6, "clamped")


@pytest.mark.slow
def test_moe_decode_at_real_20b_expert_shape():
    # One decode token through 4 of 32 experts at 2880 x 2880 (~10 s of CPU in the interpreter).
    x, w, b, experts = make(1, 2880, 2880, 32, seed=1)
    assert_close(moe(x, w, b, experts, TOP_K, 7.0), moe_torch(x, w, b, experts, TOP_K, 7.0), 1e-5, 1e-6, "20b decode")
