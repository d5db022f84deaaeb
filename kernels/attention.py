"""Attention with learned sinks, grouped-query heads and an optional sliding window.

Shapes: T queries, S keys, Hq query heads, Hkv key/value heads (G = Hq/Hkv queries per kv
head), hd head dim. Masks come from positions, so the same op serves a full forward, a
chunked prefill against a KV cache, and one decode step; key position -1 marks an empty slot.

`attention_torch` is the PyTorch path and the GPU kernels' reference. Scores and softmax
are float32; the sink is one extra logit column per head, dropped after the softmax.
`attention` is the flash-style Triton kernel (kernels/_attention_triton.py), same signature.
`attention_cpu` is the compiled CPU op for a decode step (kernels/cpu/attention.c): it reads
the cache in its own dtype, where the torch path converts the whole cache to float32 per call.
"""

from __future__ import annotations

import torch

from kernels.limits import MAX_SCORES


def attention_torch(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sinks: torch.Tensor,
                    q_positions: torch.Tensor, k_positions: torch.Tensor,
                    sliding_window: int | None, sm_scale: float) -> torch.Tensor:
    """q [T, Hq, hd], k/v [S, Hkv, hd], sinks [Hq], positions [T] / [S] -> [T, Hq*hd]."""
    T, Hq, hd = q.shape
    S = k.shape[0]
    chunk = max(1, MAX_SCORES // max(1, Hq * S))
    out = torch.empty(T, Hq * hd, dtype=q.dtype, device=q.device)
    kf, vf = k.float(), v.float()
    for start in range(0, T, chunk):
        stop = min(T, start + chunk)
        out[start:stop] = _attend(q[start:stop].float(), kf, vf, sinks, q_positions[start:stop],
                                  k_positions, sliding_window, sm_scale).to(q.dtype)
    return out


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sinks: torch.Tensor,
              q_positions: torch.Tensor, k_positions: torch.Tensor,
              sliding_window: int | None, sm_scale: float) -> torch.Tensor:
    """`attention_torch` through the Triton kernel: no [T, S] score matrix; decode against
    a long cache splits the keys across programs."""
    from kernels import _attention_triton  # Triton exists on Linux only; the CPU engine never needs it

    return _attention_triton.attention(q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale)


# Queries up to which the compiled op serves a call; a longer prefill chunk is a batched
# matmul that torch's GEMMs do better.
CPU_MAX_QUERIES = 4


def attention_cpu(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sinks: torch.Tensor,
                  q_positions: torch.Tensor, k_positions: torch.Tensor,
                  sliding_window: int | None, sm_scale: float, kernels=None) -> torch.Tensor:
    """`attention_torch` through the compiled CPU kernels for a few queries (decode)."""
    if q.shape[0] > CPU_MAX_QUERIES:
        return attention_torch(q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale)
    from kernels import _cpu

    kernels = kernels or _cpu.load()
    return kernels.attention(q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale).to(q.dtype)


def _attend(q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale):
    T, Hq, hd = q.shape
    S, Hkv, _ = k.shape
    G = Hq // Hkv
    q = q.view(T, Hkv, G, hd)
    scores = torch.einsum("tkgd,skd->kgts", q, k) * sm_scale                # [Hkv, G, T, S]
    visible = (k_positions[None, :] <= q_positions[:, None]) & (k_positions[None, :] >= 0)  # [T, S]
    if sliding_window is not None:
        visible &= q_positions[:, None] - k_positions[None, :] < sliding_window
    scores = scores.masked_fill(~visible, float("-inf"))
    sink = sinks.float().view(Hkv, G, 1, 1).expand(Hkv, G, T, 1)
    probs = torch.softmax(torch.cat([scores, sink], dim=-1), dim=-1)[..., :S]  # [Hkv, G, T, S]
    o = torch.einsum("kgts,skd->tkgd", probs, v)                           # [T, Hkv, G, hd]
    return o.reshape(T, Hq * hd)
