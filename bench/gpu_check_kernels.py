"""bench/gpu_check.py's "kernels" stage: every Triton kernel on the GPU against its torch twin,
in bf16 at the gpt-oss shapes, on awkward token counts (1, 7, 113, 256).

Format conversion is exact (every FP4 code with every scale, bit for bit). For the matmuls a
float32 reference (the torch twin on the same bf16 values, computed in float32) judges both
bf16 paths: the kernel must stay within a stated distance of it, and within twice the torch
twin's own distance, relative max and RMS error (kernels/testing.py's measures).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from core.engine.testing import random_mxfp4
from kernels.attention import attention, attention_torch
from kernels.moe import ExpertWeights, moe, moe_torch, route, route_torch
from kernels.mxfp4 import dequantize_mxfp4, dequantize_mxfp4_torch
from kernels.testing import errors, every_code_and_scale

# The gpt-oss shapes; tests/bench/test_gpu_check.py shrinks them to rehearse on the processor.
DEVICE = "cuda"
D = I = 2880
HEADS, KV_HEADS, HEAD_DIM, WINDOW = 64, 8, 64, 128
EXPERTS = (("20b", 32), ("120b", 128))
TOKENS = (1, 7, 113, 256)
CHUNK, MID, LONG = 256, 4096, 32768  # a prefill chunk, a conversation, a long one
BF16 = torch.bfloat16


def check_kernels(stage) -> None:
    device = torch.device(DEVICE)
    mxfp4(stage, device)
    for name, experts in EXPERTS:
        mixture_of_experts(stage, device, name, experts)
    attention_cases(stage, device)


def mxfp4(stage, device) -> None:
    blocks, scales = every_code_and_scale()
    for dtype, bits in ((BF16, torch.int16), (torch.float32, torch.int32)):
        got = dequantize_mxfp4(blocks.to(device), scales.to(device), dtype).cpu()
        want = dequantize_mxfp4_torch(blocks, scales, dtype)
        same = torch.equal(got.view(bits), want.view(bits))  # bits: signed zeros and infinities too
        stage.check(f"mxfp4 decode to {str(dtype)[6:]}: 65,536 codes x scales, bit for bit", same,
                    "" if same else f"{int((got.view(bits) != want.view(bits)).sum())} values differ")


def gpu_experts(num_experts: int, generator: torch.Generator) -> ExpertWeights:
    gate_up_blocks, gate_up_scales = random_mxfp4((num_experts, 2 * I, D), generator)
    down_blocks, down_scales = random_mxfp4((num_experts, D, I), generator)
    bias = lambda *shape: (0.02 * torch.randn(*shape, generator=generator, device=generator.device)).to(BF16)  # noqa: E731
    return ExpertWeights(gate_up_blocks, gate_up_scales, bias(num_experts, 2 * I), down_blocks, down_scales,
                         bias(num_experts, D))


def mixture_of_experts(stage, device, name: str, num_experts: int) -> None:
    g = torch.Generator(device).manual_seed(num_experts)
    experts = gpu_experts(num_experts, g)
    experts32 = replace(experts, gate_up_bias=experts.gate_up_bias.float(), down_bias=experts.down_bias.float())
    router_weight = (torch.randn(num_experts, D, generator=g, device=device) / D ** 0.5).to(BF16)
    router_bias = (0.02 * torch.randn(num_experts, generator=g, device=device)).to(BF16)
    for tokens in TOKENS:
        x = torch.randn(tokens, D, generator=g, device=device).to(BF16)
        kernel = moe(x, router_weight, router_bias, experts, 4, 7.0)
        twin = moe_torch(x, router_weight, router_bias, experts, 4, 7.0)
        reference = moe_torch(x.float(), router_weight.float(), router_bias.float(), experts32, 4, 7.0)
        within(stage, f"moe {name} ({num_experts} experts), {tokens} tokens", kernel, twin, reference,
               max_rel=5e-2, rms_rel=1.5e-2)
    x = torch.randn(CHUNK, D, generator=g, device=device).to(BF16)
    (w_kernel, e_kernel), (w_twin, e_twin) = route(x, router_weight, router_bias, 4), \
        route_torch(x, router_weight, router_bias, 4)
    same = (e_kernel == e_twin).all(dim=1).float().mean().item()
    stage.check(f"router {name}: top-4 experts as the twin's, {CHUNK} tokens", same >= 0.99,
                f"{same:.1%} of tokens identical; weights max error {(w_kernel - w_twin).abs().max().item():.2e}")


def attention_cases(stage, device) -> None:
    g = torch.Generator(device).manual_seed(7)
    sinks = torch.randn(HEADS, generator=g, device=device).to(BF16)
    scale = HEAD_DIM ** -0.5
    # (name, queries, keys, window, filled keys): positions as the KV cache hands them over
    cases = (("decode, sliding ring", 1, WINDOW, WINDOW, WINDOW), (f"decode, {MID} full", 1, MID, None, MID),
             (f"decode, {LONG} full (split keys)", 1, LONG, None, LONG),
             (f"decode, {LONG} static cache, {MID // 4} filled", 1, LONG, None, MID // 4),
             ("prefill 7, sliding", 7, WINDOW + 7, WINDOW, WINDOW + 7), ("prefill 113, full", 113, 113, None, 113),
             (f"prefill {CHUNK}, sliding", CHUNK, WINDOW + CHUNK, WINDOW, WINDOW + CHUNK),
             (f"prefill {CHUNK} in a static {MID} cache", CHUNK, MID, None, CHUNK))
    for name, T, S, window, filled in cases:
        q = torch.randn(T, HEADS, HEAD_DIM, generator=g, device=device).to(BF16)
        k = torch.randn(S, KV_HEADS, HEAD_DIM, generator=g, device=device).to(BF16)
        v = torch.randn(S, KV_HEADS, HEAD_DIM, generator=g, device=device).to(BF16)
        k_pos = torch.full((S,), -1, dtype=torch.int64, device=device)
        k_pos[:filled] = torch.arange(filled, device=device)
        if window is not None and T == 1:
            k_pos = torch.roll(k_pos, 37)  # a ring holds its keys in any order
        q_pos = torch.arange(filled - T, filled, device=device)
        args = (sinks, q_pos, k_pos, window, scale)
        within(stage, f"attention {name}", attention(q, k, v, *args), attention_torch(q, k, v, *args),
               attention_torch(q.float(), k.float(), v.float(), *args), max_rel=2e-2, rms_rel=1e-2)


def within(stage, what: str, kernel, twin, reference, max_rel: float, rms_rel: float) -> None:
    k_max, k_rms = errors(kernel.float(), reference)
    t_max, t_rms = errors(twin.float(), reference)
    ok = (not torch.isnan(kernel).any().item() and k_max <= max(max_rel, 2 * t_max)
          and k_rms <= max(rms_rel, 2 * t_rms))
    stage.check(f"{what}, bf16", ok,
                f"kernel vs float32: max {k_max:.2e}, rms {k_rms:.2e}; torch twin in bf16: max {t_max:.2e}, "
                f"rms {t_rms:.2e} (allowed: {max_rel:g} / {rms_rel:g}, or twice the twin's)")
