"""Triton bodies of attention with sinks, GQA and the sliding window (flash style).

Shapes: T queries, S keys, Hq/Hkv heads, G = Hq/Hkv, hd head dim, BM query rows per
program (BM/G tokens x the G query heads of one kv head, so each key tile loaded serves
all of them), BN keys per step.

Visibility comes from positions alone, as in `attention_torch`: key position -1 is an
empty slot, a ring buffer may hold keys in any order. A key tile nobody in the program can
see is skipped before its K/V are loaded, so a causal prefill does half the work and a
sliding layer touches only its window, whatever the key order.

The sink starts each row's online softmax: the running max begins at the sink's logit
with nothing summed yet, and the sink's own exp() joins the denominator at the end. With
NUM_SPLITS > 1 (decode against a long cache, where T*Hkv programs would leave a GPU idle)
each split writes its unnormalised (acc, max, sum) and `_combine_kernel` merges them.
Scores, softmax and accumulators are float32; P is cast to V's dtype for the PV dot, as
flash attention does on bf16.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels.target import run

LOG2E = tl.constexpr(1.4426950408889634)  # exp(x) = exp2(x * LOG2E): scores live in log2 units


# Lengths vary with every prompt and step: were Triton to specialise on them (== 1, multiple
# of 16), a prompt of an unseen kind would compile anew on the user's machine instead of
# using the kernels the installer ships pre-compiled.
@triton.jit(do_not_specialize=["T", "S"])
def _attention_kernel(q_ptr, k_ptr, v_ptr, sinks_ptr, q_pos_ptr, k_pos_ptr, out_ptr, part_ptr, stats_ptr,
                      T, S, G, Hq, tokens_per_block, keys_per_split, window, scale_log2,
                      stride_qt, stride_qh, stride_kt, stride_kh, stride_vt, stride_vh,
                      HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      SLIDING: tl.constexpr, SPLIT: tl.constexpr, PRECISION: tl.constexpr):
    pid_m, kv_head, split = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    r = tl.arange(0, BLOCK_M)
    t = pid_m * tokens_per_block + r // G
    head = kv_head * G + r % G
    row_ok = (r < tokens_per_block * G) & (t < T)
    t = tl.where(row_ok, t, 0).to(tl.int64)
    d = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + t[:, None] * stride_qt + head[:, None] * stride_qh + d[None, :], mask=row_ok[:, None], other=0)
    q_pos = tl.load(q_pos_ptr + t, mask=row_ok, other=-1)
    sink = tl.load(sinks_ptr + head).to(tl.float32) * LOG2E
    m_i = sink
    l_i = tl.zeros((BLOCK_M,), dtype=tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), dtype=tl.float32)
    lo = split * keys_per_split
    hi = tl.minimum(lo + keys_per_split, S)
    k_base = k_ptr + kv_head * stride_kh
    v_base = v_ptr + kv_head * stride_vh
    for n0 in range(lo, hi, BLOCK_N):
        n = n0 + tl.arange(0, BLOCK_N)
        n_ok = n < hi
        k_pos = tl.load(k_pos_ptr + n, mask=n_ok, other=-1)
        visible = (k_pos[None, :] >= 0) & (k_pos[None, :] <= q_pos[:, None]) & row_ok[:, None]
        if SLIDING:
            visible = visible & (q_pos[:, None] - k_pos[None, :] < window)
        if tl.max(visible.to(tl.int32)) > 0:
            rows = n[:, None].to(tl.int64)
            k = tl.load(k_base + rows * stride_kt + d[None, :], mask=n_ok[:, None], other=0)    # [BN, hd]
            v = tl.load(v_base + rows * stride_vt + d[None, :], mask=n_ok[:, None], other=0)
            s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * scale_log2                 # [BM, BN]
            s = tl.where(visible, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, axis=1))      # finite: m_i starts at the sink
            alpha = tl.exp2(m_i - m_new)
            p = tl.exp2(s - m_new[:, None])
            l_i = l_i * alpha + tl.sum(p, axis=1)
            acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None], input_precision=PRECISION)
            m_i = m_new
    row = t * Hq + head                                     # (token, head) row of the output
    if SPLIT:
        part = split * T * Hq + row
        tl.store(part_ptr + part[:, None] * HEAD_DIM + d[None, :], acc, mask=row_ok[:, None])
        tl.store(stats_ptr + 2 * part, m_i, mask=row_ok)
        tl.store(stats_ptr + 2 * part + 1, l_i, mask=row_ok)
    else:
        out = acc / (l_i + tl.exp2(sink - m_i))[:, None]
        tl.store(out_ptr + row[:, None] * HEAD_DIM + d[None, :], out.to(out_ptr.dtype.element_ty),
                 mask=row_ok[:, None])


@triton.jit(do_not_specialize=["rows", "num_splits"])
def _combine_kernel(part_ptr, stats_ptr, sinks_ptr, out_ptr, rows, Hq, num_splits,
                    HEAD_DIM: tl.constexpr, SPLITS: tl.constexpr):
    # One program per (token, head) row: merges the splits' partial softmax states and the sink.
    row = tl.program_id(0).to(tl.int64)
    s = tl.arange(0, SPLITS)
    s_ok = s < num_splits
    part = s * rows + row
    m = tl.load(stats_ptr + 2 * part, mask=s_ok, other=float("-inf"))
    l_s = tl.load(stats_ptr + 2 * part + 1, mask=s_ok, other=0)
    sink = tl.load(sinks_ptr + row % Hq).to(tl.float32) * LOG2E
    m_all = tl.maximum(tl.max(m, axis=0), sink)
    weight = tl.exp2(m - m_all)                                                            # [SPLITS]
    total = tl.sum(l_s * weight, axis=0) + tl.exp2(sink - m_all)
    d = tl.arange(0, HEAD_DIM)
    acc = tl.load(part_ptr + part[:, None] * HEAD_DIM + d[None, :], mask=s_ok[:, None], other=0)
    out = tl.sum(acc * weight[:, None], axis=0) / total
    tl.store(out_ptr + row * HEAD_DIM + d, out.to(out_ptr.dtype.element_ty))


def attention_config(T: int, S: int, G: int) -> dict:
    """Tiles pinned per shape: decode-sized query blocks (<= 16 rows) split a long key
    range so the GPU has work for every SM; prefill blocks hold 64 rows."""
    block_m = 16 if T * G <= 16 else 64
    block_m = max(block_m, triton.next_power_of_2(G))
    splits = 1 if T * G > 16 else max(1, min(32, S // 512))
    # 64-row blocks with 64-wide heads spill at 4 warps on sm_80/sm_90.
    return dict(BLOCK_M=block_m, BLOCK_N=64, splits=splits, num_warps=4 if block_m <= 16 else 8)


def attention(q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale, launch=run):
    """q [T, Hq, hd], k/v [S, Hkv, hd], sinks [Hq], positions [T] / [S] -> [T, Hq*hd]."""
    T, Hq, hd = q.shape
    S, Hkv, _ = k.shape
    G = Hq // Hkv
    if hd != triton.next_power_of_2(hd) or k.stride(2) != 1 or v.stride(2) != 1 or q.stride(2) != 1:
        raise ValueError("attention kernels need a power-of-two head_dim with contiguous head vectors")
    cfg = attention_config(T, S, G)
    block_m, splits = cfg["BLOCK_M"], cfg["splits"]
    tokens_per_block = block_m // G
    keys_per_split = triton.cdiv(triton.cdiv(S, splits), cfg["BLOCK_N"]) * cfg["BLOCK_N"]
    out = torch.empty(T, Hq * hd, dtype=q.dtype, device=q.device)
    if splits > 1:
        part = torch.empty(splits, T * Hq, hd, dtype=torch.float32, device=q.device)
        stats = torch.empty(splits, T * Hq, 2, dtype=torch.float32, device=q.device)
    else:
        part = stats = out  # unused: SPLIT is off
    precision = "ieee" if q.dtype == torch.float32 else "tf32"
    grid = (triton.cdiv(T, tokens_per_block), Hkv, splits)
    launch(_attention_kernel, grid, q, k, v, sinks, q_positions, k_positions, out, part, stats,
           T, S, G, Hq, tokens_per_block, keys_per_split, int(sliding_window or 0), float(sm_scale) * LOG2E.value,
           q.stride(0), q.stride(1), k.stride(0), k.stride(1), v.stride(0), v.stride(1),
           HEAD_DIM=hd, BLOCK_M=block_m, BLOCK_N=cfg["BLOCK_N"], SLIDING=sliding_window is not None,
           SPLIT=splits > 1, PRECISION=precision, num_warps=cfg["num_warps"])
    if splits > 1:
        launch(_combine_kernel, (T * Hq,), part, stats, sinks, out, T * Hq, Hq, splits,
               HEAD_DIM=hd, SPLITS=triton.next_power_of_2(splits))
    return out
