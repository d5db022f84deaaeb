"""Triton bodies of the MoE layer: router, gate_up (+ SwiGLU), down (+ weighted sum).

Shapes: T tokens, D hidden, E experts, K active per token, I intermediate,
P = T*K (token, slot) pairs, BM rows of one expert per program.

The expert kernels read the packed MXFP4 bytes and scales of the routed experts only and
decode them in registers (`e2m1_values`, `e8m0_factors`); every product accumulates in float32 and the
inputs of `tl.dot` are cast to the activations' dtype (bf16 on a GPU: exact for e2m1
values). Low nibbles hold the even input features and high nibbles the odd ones, so each
weight tile meets the even and the odd columns of x in two dots: no interleave in registers.

Pairs are grouped by expert into blocks of BM rows (`group_by_expert`), each block padded
with -1, so the grid has a size fixed by (T, K, E) alone: no host sync, and a decode step
can be captured in a CUDA graph. A decode step (T=1) is the same code with 4 blocks of one
real row each; the blocks past the last expert exit at once.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels._mxfp4_triton import e2m1_values, e8m0_factors
from kernels.target import run


@triton.jit(do_not_specialize=["T"])  # the token count varies: one compiled kernel for all (see _attention_triton)
def _router_kernel(x_ptr, w_ptr, b_ptr, weights_ptr, experts_ptr, T, D, E,
                   TOP_K: tl.constexpr, K_POW2: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_E: tl.constexpr,
                   BLOCK_D: tl.constexpr, PRECISION: tl.constexpr):
    # One program: BLOCK_T tokens against every expert (E <= BLOCK_E), then top-k in registers.
    t = tl.program_id(0) * BLOCK_T + tl.arange(0, BLOCK_T)
    e = tl.arange(0, BLOCK_E)
    t_ok, e_ok = t < T, e < E
    logits = tl.zeros((BLOCK_T, BLOCK_E), dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        d = d0 + tl.arange(0, BLOCK_D)
        x = tl.load(x_ptr + t[:, None].to(tl.int64) * D + d[None, :], mask=t_ok[:, None] & (d[None, :] < D), other=0)
        w = tl.load(w_ptr + e[:, None] * D + d[None, :], mask=e_ok[:, None] & (d[None, :] < D), other=0)
        logits = tl.dot(x, tl.trans(w.to(x.dtype)), logits, input_precision=PRECISION)
    logits += tl.load(b_ptr + e, mask=e_ok, other=0).to(tl.float32)[None, :]
    # The reference rounds the logits to the activations' dtype (F.linear) before the softmax.
    logits = logits.to(x_ptr.dtype.element_ty).to(tl.float32)
    logits = tl.where(e_ok[None, :], logits, float("-inf"))
    slot = tl.arange(0, K_POW2)
    values = tl.full((BLOCK_T, K_POW2), float("-inf"), dtype=tl.float32)
    chosen = tl.zeros((BLOCK_T, K_POW2), dtype=tl.int32)
    for k in tl.static_range(TOP_K):
        best = tl.max(logits, axis=1)
        # lowest index among equal maxima, as a stable sort would pick
        index = tl.min(tl.where(logits == best[:, None], e[None, :], BLOCK_E), axis=1)
        values = tl.where(slot[None, :] == k, best[:, None], values)
        chosen = tl.where(slot[None, :] == k, index[:, None], chosen)
        logits = tl.where(e[None, :] == index[:, None], float("-inf"), logits)
    # softmax over the k chosen values; the first is the largest
    first = tl.max(values, axis=1)
    p = tl.exp(values - first[:, None])
    p = p / tl.sum(p, axis=1)[:, None]
    out = t[:, None].to(tl.int64) * TOP_K + slot[None, :]
    mask = t_ok[:, None] & (slot[None, :] < TOP_K)
    tl.store(weights_ptr + out, p, mask=mask)
    tl.store(experts_ptr + out, chosen.to(tl.int64), mask=mask)


@triton.jit
def _expert_tile(x_even, x_odd, blocks_ptr, scales_ptr, rows, rows_ok,
                 kb, k_ok, stride_row, groups, acc, PRECISION: tl.constexpr):
    """acc [BM, BN] += x [BM, BK] @ W[rows, k-range]^T, W decoded from MXFP4 in registers.
    kb are byte indices along the row (byte kb holds features 2kb and 2kb+1)."""
    mask = rows_ok[:, None] & k_ok[None, :]
    row = rows[:, None].to(tl.int64)
    byte = tl.load(blocks_ptr + row * stride_row + kb[None, :], mask=mask, other=0).to(tl.int32)    # [BN, BK/2]
    scale = tl.load(scales_ptr + row * groups + (kb // 16)[None, :], mask=mask, other=127).to(tl.int32)
    f1, f2 = e8m0_factors(scale)                                # one scale decode for both nibbles
    even = (e2m1_values(byte & 15) * f1 * f2).to(x_even.dtype)
    odd = (e2m1_values(byte >> 4) * f1 * f2).to(x_even.dtype)
    acc = tl.dot(x_even, tl.trans(even), acc, input_precision=PRECISION)
    acc = tl.dot(x_odd, tl.trans(odd), acc, input_precision=PRECISION)
    return acc


@triton.jit
def _gate_up_kernel(x_ptr, blocks_ptr, scales_ptr, bias_ptr, out_ptr, sorted_pair_ptr, block_expert_ptr,
                    D, I, E, limit, alpha,
                    TOP_K: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                    PRECISION: tl.constexpr):
    # Program (m, n): BM pairs routed to one expert x outputs j in [n*BN, n*BN + BN) of the
    # SwiGLU, i.e. gate_up rows 2j (gate) and 2j+1 (linear) of that expert.
    pid_m, pid_n = tl.program_id(0), tl.program_id(1)
    expert = tl.load(block_expert_ptr + pid_m).to(tl.int64)
    if expert < E:
        m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        pair = tl.load(sorted_pair_ptr + m)
        m_ok = pair >= 0
        token = tl.where(m_ok, pair // TOP_K, 0).to(tl.int64)
        j = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        j_ok = j < I
        groups = D // 32
        row_bytes = D // 2
        blocks = blocks_ptr + expert * (2 * I) * row_bytes
        scales = scales_ptr + expert * (2 * I) * groups
        acc_gate = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        acc_linear = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, row_bytes, BLOCK_K // 2):
            kb = k0 + tl.arange(0, BLOCK_K // 2)
            k_ok = kb < row_bytes
            xm = m_ok[:, None] & k_ok[None, :]
            x_row = x_ptr + token[:, None] * D + 2 * kb[None, :]
            x_even = tl.load(x_row, mask=xm, other=0)
            x_odd = tl.load(x_row + 1, mask=xm, other=0)
            acc_gate = _expert_tile(x_even, x_odd, blocks, scales, 2 * j, j_ok, kb, k_ok, row_bytes,
                                    groups, acc_gate, PRECISION)
            acc_linear = _expert_tile(x_even, x_odd, blocks, scales, 2 * j + 1, j_ok, kb, k_ok, row_bytes,
                                      groups, acc_linear, PRECISION)
        bias = bias_ptr + expert * (2 * I)
        gate = acc_gate + tl.load(bias + 2 * j, mask=j_ok, other=0).to(tl.float32)[None, :]
        linear = acc_linear + tl.load(bias + 2 * j + 1, mask=j_ok, other=0).to(tl.float32)[None, :]
        gate = tl.minimum(gate, limit)
        linear = tl.minimum(tl.maximum(linear, -limit), limit)
        a = gate * tl.sigmoid(alpha * gate) * (linear + 1)
        tl.store(out_ptr + m[:, None].to(tl.int64) * I + j[None, :], a.to(out_ptr.dtype.element_ty),
                 mask=m_ok[:, None] & j_ok[None, :])


@triton.jit
def _down_kernel(a_ptr, blocks_ptr, scales_ptr, bias_ptr, routing_ptr, out_ptr, sorted_pair_ptr, block_expert_ptr,
                 D, I, E,
                 TOP_K: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                 PRECISION: tl.constexpr):
    # Program (m, n): BM pairs of one expert x output features [n*BN, n*BN + BN); adds
    # routing weight * (a W_down^T + b) into the float32 sum of each pair's token.
    pid_m, pid_n = tl.program_id(0), tl.program_id(1)
    expert = tl.load(block_expert_ptr + pid_m).to(tl.int64)
    if expert < E:
        m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        pair = tl.load(sorted_pair_ptr + m)
        m_ok = pair >= 0
        n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        n_ok = n < D
        groups = I // 32
        row_bytes = I // 2
        blocks = blocks_ptr + expert * D * row_bytes
        scales = scales_ptr + expert * D * groups
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, row_bytes, BLOCK_K // 2):
            kb = k0 + tl.arange(0, BLOCK_K // 2)
            k_ok = kb < row_bytes
            am = m_ok[:, None] & k_ok[None, :]
            a_row = a_ptr + m[:, None].to(tl.int64) * I + 2 * kb[None, :]
            a_even = tl.load(a_row, mask=am, other=0)
            a_odd = tl.load(a_row + 1, mask=am, other=0)
            acc = _expert_tile(a_even, a_odd, blocks, scales, n, n_ok, kb, k_ok, row_bytes, groups, acc,
                               PRECISION)
        y = acc + tl.load(bias_ptr + expert * D + n, mask=n_ok, other=0).to(tl.float32)[None, :]
        weight = tl.load(routing_ptr + tl.where(m_ok, pair, 0), mask=m_ok, other=0)
        token = tl.where(m_ok, pair // TOP_K, 0).to(tl.int64)
        # K pairs of a token live in different programs: their sum meets in float32 atomics,
        # whose order varies on a GPU (last-bit differences in float32, rarely visible in bf16).
        tl.atomic_add(out_ptr + token[:, None] * D + n[None, :], y * weight[:, None],
                      mask=m_ok[:, None] & n_ok[None, :])


def precision(dtype: torch.dtype) -> str:
    """tl.dot precision: float32 inputs (CPU tests, or a float32 model) stay IEEE float32
    rather than tf32; bf16/fp16 inputs multiply exactly into float32 either way."""
    return "ieee" if dtype == torch.float32 else "tf32"


def route(x, router_weight, router_bias, top_k: int, launch=run):
    """x [T, D] -> (weights [T, K] float32, experts [T, K] int64), as `route_torch`."""
    T, D = x.shape
    E = router_weight.shape[0]
    weights = torch.empty(T, top_k, dtype=torch.float32, device=x.device)
    experts = torch.empty(T, top_k, dtype=torch.int64, device=x.device)
    block_t = 16
    launch(_router_kernel, (triton.cdiv(T, block_t),), x, router_weight, router_bias, weights, experts, T, D, E,
           TOP_K=top_k, K_POW2=triton.next_power_of_2(top_k), BLOCK_T=block_t,
           BLOCK_E=max(16, triton.next_power_of_2(E)), BLOCK_D=64 if E <= 64 else 32, PRECISION=precision(x.dtype))
    return weights, experts


def group_by_expert(experts: torch.Tensor, num_experts: int, block_m: int):
    """experts [T, K] -> (sorted_pair [P_pad] int32, block_expert [P_pad / BM] int64).

    sorted_pair lists pair ids (t*K + k) grouped by expert, each group padded with -1 to a
    multiple of BM; block_expert[b] is the expert of rows [b*BM, b*BM + BM), or E past the
    last group. Device ops only, sizes from shapes only: no host sync."""
    flat = experts.reshape(-1)                                                 # [P]
    P = flat.numel()
    device = flat.device
    order = torch.argsort(flat, stable=True)                                   # [P] pairs by expert
    counts = torch.zeros(num_experts, dtype=torch.int64, device=device).scatter_add_(0, flat, torch.ones_like(flat))
    padded = (counts + block_m - 1) // block_m * block_m                       # [E]
    padded_end = torch.cumsum(padded, 0)
    start = torch.cumsum(counts, 0) - counts
    expert_of = flat[order]                                                    # [P]
    dest = (padded_end - padded)[expert_of] + torch.arange(P, device=device) - start[expert_of]
    size = triton.cdiv(P + min(num_experts, P) * (block_m - 1), block_m) * block_m
    sorted_pair = torch.full((size,), -1, dtype=torch.int32, device=device)
    sorted_pair[dest] = order.to(torch.int32)
    block_start = torch.arange(0, size, block_m, device=device)
    block_expert = torch.searchsorted(padded_end, block_start, right=True)    # [P_pad / BM]
    return sorted_pair, block_expert


def moe_config(T: int, top_k: int, num_experts: int, device: torch.device) -> dict:
    """Tile sizes pinned per shape (no autotuning). On a GPU, decode-sized groups get 16
    rows (the smallest tl.dot) and prefill groups 64. The interpreter (CPU tensors) has no
    registers to spill and pays per operation, so it gets wide tiles: the same code in
    fewer, larger numpy steps."""
    rows_per_expert = T * top_k / min(num_experts, T * top_k)
    block_m = 16 if rows_per_expert <= 16 else 64
    if torch.device(device).type == "cpu":
        return dict(BLOCK_M=block_m, BLOCK_N=256, BLOCK_K=512)
    # Decode reads 64 bytes of each weight row per step. 8 warps, and 64 input features
    # per step at 64 rows, keep the decoded tiles and gate_up's two accumulators in
    # registers (ptxas -v: no spills on sm_80 or sm_90).
    return dict(BLOCK_M=block_m, BLOCK_N=64, BLOCK_K=128 if block_m == 16 else 64, num_warps=8)


def moe(x, router_weight, router_bias, experts, top_k: int, swiglu_limit: float, alpha: float, launch=run,
        config: dict | None = None):
    """x [T, D] -> [T, D]: route, then gate_up + SwiGLU and down + weighted sum per expert
    group. `config` overrides the pinned tiles (tests run the GPU tiles in the interpreter)."""
    T, D = x.shape
    E, two_i = experts.gate_up_bias.shape
    I = two_i // 2
    x = x.contiguous()
    packed = (experts.gate_up_blocks, experts.gate_up_scales, experts.down_blocks, experts.down_scales)
    if not all(t.is_contiguous() for t in packed) or not router_weight.is_contiguous():
        raise ValueError("the MoE kernels index the packed experts and the router as contiguous tensors")
    weights, chosen = route(x, router_weight, router_bias, top_k, launch)   # [T, K]
    cfg = config or moe_config(T, top_k, E, x.device)
    sorted_pair, block_expert = group_by_expert(chosen, E, cfg["BLOCK_M"])
    blocks_m = block_expert.numel()
    a = torch.empty(sorted_pair.numel(), I, dtype=x.dtype, device=x.device)  # [P_pad, I] SwiGLU output
    launch(_gate_up_kernel, (blocks_m, triton.cdiv(I, cfg["BLOCK_N"])), x, experts.gate_up_blocks,
           experts.gate_up_scales, experts.gate_up_bias, a, sorted_pair, block_expert, D, I, E,
           float(swiglu_limit), float(alpha), TOP_K=top_k, PRECISION=precision(x.dtype), **cfg)
    out = torch.zeros(T, D, dtype=torch.float32, device=x.device)
    launch(_down_kernel, (blocks_m, triton.cdiv(D, cfg["BLOCK_N"])), a, experts.down_blocks, experts.down_scales,
           experts.down_bias, weights, out, sorted_pair, block_expert, D, I, E,
           TOP_K=top_k, PRECISION=precision(x.dtype), **cfg)
    return out.to(x.dtype)
