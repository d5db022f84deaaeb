"""The compiled decode linear (kernels/cpu/linear.c) and attention (kernels/cpu/attention.c)
on every x86 path against their torch twins, in float32.

Tolerances: linear, relative max error <= 1e-5 (float32 sums of exact bf16 x float32
products in another order); the fused norm + projections + rope (hearth_project), <= 1e-5
against core's rms_norm, F.linear and apply_rope (measured ~8e-7); attention, <= 1e-5
(float32 throughout, online softmax).
"""

from __future__ import annotations

import pytest
import torch

from core.engine.rope import apply_rope
from core.engine.transformer import rms_norm
from kernels.attention import attention_cpu, attention_torch
from kernels.linear import linear_cpu, linear_torch
from tests.kernels.cpu_fixtures import X86_PATHS, kernels_or_skip, relative_errors


@pytest.mark.parametrize("isa", X86_PATHS)
@pytest.mark.parametrize(("T", "C", "N"), [(1, 2880, 4096), (3, 2880, 201), (4, 100, 7), (2, 64, 5)])
def test_linear_matches_torch(isa, T, C, N):
    kernels = kernels_or_skip(isa)
    g = torch.Generator().manual_seed(C + N)
    x = torch.randn(T, C, generator=g)
    weight = torch.randn(N, C, generator=g).bfloat16()
    bias = torch.randn(N, generator=g).bfloat16()
    expected = torch.nn.functional.linear(x, weight.float(), bias.float())
    actual = kernels.linear(x, weight, bias)
    assert relative_errors(actual, expected)[0] <= 1e-5
    assert torch.equal(kernels.linear(x.bfloat16(), weight), kernels.linear(x.bfloat16().float(), weight))


@pytest.mark.parametrize("isa", X86_PATHS)
@pytest.mark.parametrize(("T", "N"), [(9, 64), (128, 301), (6, 1)])
def test_linear_serves_prefill_chunks_too(isa, T, N):
    # Tokens 4 at a time (and 2 rows at a time on AVX2), then a ragged tail of tokens and rows.
    kernels = kernels_or_skip(isa)
    g = torch.Generator().manual_seed(T)
    x, weight = torch.randn(T, 2880, generator=g), torch.randn(N, 2880, generator=g).bfloat16()
    assert relative_errors(kernels.linear(x, weight), torch.nn.functional.linear(x, weight.float()))[0] <= 1e-5


@pytest.mark.parametrize("isa", X86_PATHS)
@pytest.mark.parametrize(("T", "C", "sizes", "head_dim"), [(1, 2880, (4096, 512, 512), 64), (7, 2880, (512, 64), 64),
                                                           (5, 100, (8, 12, 7), 4)])
def test_project_is_norm_then_linear_then_rope(isa, T, C, sizes, head_dim):
    kernels = kernels_or_skip(isa)
    g = torch.Generator().manual_seed(T * C)
    x, norm = torch.randn(T, C, generator=g) * 3, torch.randn(C, generator=g).bfloat16()
    weights = [torch.randn(n, C, generator=g).bfloat16() for n in sizes]
    biases = [torch.randn(n, generator=g).bfloat16() for n in sizes]
    angles = torch.randn(T, 1, head_dim // 2, generator=g) * 50
    cos, sin = angles.cos(), angles.sin()
    h = rms_norm(x, norm, 1e-5)
    expected = [torch.nn.functional.linear(h, w.float(), b.float()) for w, b in zip(weights, biases, strict=True)]
    for i in range(2):  # rope on the first two outputs (q and k), not on v
        expected[i] = apply_rope(expected[i].view(T, -1, head_dim), cos, sin).view(T, -1)
    actual = kernels.project(x, norm, 1e-5, weights, biases, cos, sin, 2, head_dim)
    assert len(actual) == len(sizes)
    for out, ref in zip(actual, expected, strict=True):
        assert relative_errors(out, ref)[0] <= 1e-5
    # Without norm and rope it is the plain linear of each weight; a missing bias is zero.
    plain = kernels.project(x, None, 0.0, weights[:1], [None])
    assert torch.equal(plain[0], kernels.linear(x, weights[0]))


def test_linear_cpu_keeps_the_input_dtype_unless_asked_and_leaves_float_weights_to_torch():
    kernels = kernels_or_skip("avx2")
    weight = torch.randn(64, 32).bfloat16()
    x = torch.randn(9, 32).bfloat16()
    assert linear_cpu(x, weight, kernels=kernels).dtype == torch.bfloat16
    one = linear_cpu(x[:1], weight, out_dtype=torch.float32, kernels=kernels)
    assert one.dtype == torch.float32
    assert relative_errors(one, torch.nn.functional.linear(x[:1].float(), weight.float()))[0] <= 1e-5
    assert torch.equal(linear_cpu(x.float(), weight.float(), kernels=kernels), linear_torch(x.float(), weight.float()))


@pytest.mark.parametrize("isa", X86_PATHS)
@pytest.mark.parametrize(("T", "S", "window"), [(1, 1, None), (1, 300, None), (1, 300, 128), (3, 40, 6), (4, 7, None)])
def test_attention_matches_torch(isa, T, S, window):
    kernels = kernels_or_skip(isa)
    g = torch.Generator().manual_seed(S + T)
    Hq, Hkv, hd = 64, 8, 64
    q = torch.randn(T, Hq, hd, generator=g)
    k = torch.randn(S, Hkv, hd, generator=g).bfloat16()
    v = torch.randn(S, Hkv, hd, generator=g).bfloat16()
    sinks = torch.randn(Hq, generator=g)
    k_positions = torch.arange(S)
    if S > 2:
        k_positions[S // 3] = -1  # an empty slot is never attended
    q_positions = torch.arange(S - T, S)
    expected = attention_torch(q, k.float(), v.float(), sinks, q_positions, k_positions, window, 0.125)
    actual = kernels.attention(q, k, v, sinks, q_positions, k_positions, window, 0.125)
    assert relative_errors(actual, expected)[0] <= 1e-5


def test_attention_cpu_reads_a_bf16_cache_without_converting_it():
    kernels = kernels_or_skip("avx2")
    q = torch.randn(1, 8, 16).bfloat16()
    k, v = torch.randn(50, 2, 16).bfloat16(), torch.randn(50, 2, 16).bfloat16()
    args = (torch.randn(8), torch.tensor([49]), torch.arange(50), None, 0.25)
    out = attention_cpu(q, k, v, *args, kernels=kernels)
    assert out.dtype == torch.bfloat16
    assert relative_errors(out, attention_torch(q, k, v, *args))[0] < 8e-3  # both round the output to bf16


def test_attention_refuses_shapes_it_cannot_hold():
    kernels = kernels_or_skip("avx2")
    with pytest.raises(ValueError, match="cannot compute"):
        kernels.attention(torch.randn(1, 2, 512), torch.randn(3, 1, 512), torch.randn(3, 1, 512), torch.zeros(2),
                          torch.tensor([2]), torch.arange(3), None, 0.1)
