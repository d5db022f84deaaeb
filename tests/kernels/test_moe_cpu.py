"""The compiled MoE (kernels/cpu/moe.c) on every x86 path against its torch twin in float32.

The only approximation is the quantization of the activations (weights are exact integers,
sums exact, scales applied in float32; kernels/cpu/activations.h), so the tolerance is by path:
- int16 per 32-value block (scalar, avx2, avx512, and every path's leftover blocks): relative
  max error <= 2e-4 and RMS <= 1e-4 of the float32 reference; measured ~4e-5 on these shapes.
- int8 per 8 values (avx512-vnni, whole groups of 4 blocks): <= 1.2e-2 max and RMS; measured
  5e-3 to 8e-3, where the bfloat16 torch path itself is at ~4e-3 to 8e-3. On the 2-layer 20b
  fidelity check the logits move by 0.010 of their range (int16: 0.0001; the bar: 0.06).
"""

from __future__ import annotations

import pytest
import torch

from kernels.moe import SWIGLU_ALPHA, moe_cpu, moe_torch, route_torch
from kernels.mxfp4 import Mxfp4Decoder
from tests.kernels.cpu_fixtures import X86_PATHS, float32_experts, kernels_or_skip, random_experts, relative_errors

LIMIT = 7.0
# (tokens, experts, hidden, intermediate): 1, 7 and 113 tokens; 4, 32 and 128 experts; hidden
# 2880 (90 blocks: AVX-512 takes 4 at a time and 2 are left); 96 (3 blocks: one left over on AVX2).
SHAPES = [(1, 4, 2880, 2880), (7, 32, 2880, 256), (113, 128, 2880, 64), (5, 4, 96, 96)]
TOLERANCE = {"avx512-vnni": (1.2e-2, 1.2e-2)}  # (max, RMS); every other path: INT16
INT16 = (2e-4, 1e-4)


def reference(x, router_weight, experts):
    exact = float32_experts(experts)
    return moe_torch(x.float(), router_weight.float(), torch.zeros(router_weight.shape[0]), exact, 4, LIMIT,
                     Mxfp4Decoder(exact.largest_tile, torch.float32))


@pytest.mark.parametrize("isa", X86_PATHS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-E{}-D{}-I{}".format(*s))
def test_moe_matches_the_float32_reference(isa, shape):
    kernels = kernels_or_skip(isa)
    T, E, D, I = shape
    g = torch.Generator().manual_seed(T * E)
    experts = random_experts(E, D, I, seed=E + D)
    router_weight = (torch.randn(E, D, generator=g) / D**0.5).bfloat16()
    x = torch.randn(T, D, generator=g).bfloat16()
    weights, chosen = route_torch(x.float(), router_weight.float(), torch.zeros(E), 4)
    expected = reference(x, router_weight, experts)
    actual = kernels.moe(x, chosen, weights, experts, LIMIT, SWIGLU_ALPHA)
    max_err, rms_err = relative_errors(actual, expected)
    max_allowed, rms_allowed = TOLERANCE.get(isa, INT16) if D >= 128 else INT16  # < 4 blocks: int16 only
    assert max_err <= max_allowed and rms_err <= rms_allowed, (max_err, rms_err)


def test_float32_activations_and_biases_give_the_same_answer():
    kernels = kernels_or_skip("avx2")
    experts = random_experts(8, 64, 64)
    x = torch.randn(3, 64).bfloat16()
    chosen = torch.tensor([[0, 1, 2, 3], [7, 6, 5, 4], [0, 2, 4, 6]])
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    from_bf16 = kernels.moe(x, chosen, weights, experts, LIMIT, SWIGLU_ALPHA)
    from_f32 = kernels.moe(x.float(), chosen, weights, float32_experts(experts), LIMIT, SWIGLU_ALPHA)
    assert torch.equal(from_bf16, from_f32)  # bf16 values are exact in float32: the same bits in, the same out


def test_every_path_gives_the_same_answer_up_to_summation_order():
    outs = {}
    experts = random_experts(32, 2880, 128, seed=5)
    x = torch.randn(9, 2880, generator=torch.Generator().manual_seed(1)).bfloat16()
    chosen = torch.stack([torch.randperm(32, generator=torch.Generator().manual_seed(i))[:4] for i in range(9)])
    weights = torch.full((9, 4), 0.25)
    for isa in ("scalar", "avx2"):
        outs[isa] = kernels_or_skip(isa).moe(x, chosen, weights, experts, LIMIT, SWIGLU_ALPHA)
    # The integer sums are exact on every path; the float32 order of adding blocks differs, and
    # with it, now and then, the int16 rounding of one SwiGLU output (measured 4e-6).
    assert relative_errors(outs["avx2"], outs["scalar"])[0] < 2e-5


def test_moe_cpu_routes_like_the_reference_and_returns_the_input_dtype():
    kernels = kernels_or_skip("avx2")
    experts = random_experts(32, 2880, 64, seed=3)
    g = torch.Generator().manual_seed(4)
    router_weight = (torch.randn(32, 2880, generator=g) / 2880**0.5).bfloat16()
    router_bias = (torch.randn(32, generator=g) * 0.1).bfloat16()
    for T in (1, 7):  # the compiled router (few tokens) and torch's float32 matmul (more)
        x = torch.randn(T, 2880, generator=g).bfloat16()
        out = moe_cpu(x, router_weight, router_bias, experts, 4, LIMIT, kernels=kernels)
        exact = float32_experts(experts)
        expected = moe_torch(x.float(), router_weight.float(), router_bias.float(), exact, 4, LIMIT,
                             Mxfp4Decoder(exact.largest_tile, torch.float32))
        assert out.dtype == torch.bfloat16
        assert relative_errors(out, expected)[0] < 8e-3  # the output's own bf16 rounding


def test_expert_ids_out_of_range_are_refused_not_read():
    kernels = kernels_or_skip("avx2")
    experts = random_experts(4, 64, 64)
    with pytest.raises(ValueError, match="cannot compute"):
        kernels.moe(torch.randn(1, 64), torch.tensor([[0, 1, 2, 4]]), torch.full((1, 4), 0.25), experts, LIMIT,
                    SWIGLU_ALPHA)
