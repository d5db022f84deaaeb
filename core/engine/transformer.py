"""The gpt-oss transformer: block structure only. Hot paths (attention, MoE) are plain
functions of the chosen backend (`core.engine.backends.Ops`).

Shapes: T tokens, D hidden, V vocab, Hq/Hkv query/kv heads, hd head dim.
Per block (pre-norm, residual): x += Attention(RMSNorm(x)); x += MoE(RMSNorm(x)).
"""

from __future__ import annotations

import math

import torch

from core.engine.backends import Ops
from core.engine.checkpoint import AttentionWeights, MoEWeights, Weights
from core.engine.config import ModelConfig
from core.engine.kv_cache import KVCache
from core.engine.rope import Rope, apply_rope


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    t = x.float()
    t = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps)
    return (t * weight.float()).to(x.dtype)


class Transformer:
    def __init__(self, config: ModelConfig, weights: Weights, ops: Ops, dtype: torch.dtype, device):
        self.config = config
        self.weights = weights
        self.ops = ops
        self.dtype = dtype
        self.device = torch.device(device)
        self.rope = Rope(config, device)
        self.sm_scale = 1.0 / math.sqrt(config.head_dim)
        self.residual_dtype = torch.float32 if ops.float32_residual else dtype

    def forward(self, token_ids: torch.Tensor, positions: torch.Tensor, cache: KVCache | None) -> torch.Tensor:
        """token_ids, positions [T] -> hidden states [T, D] after the final norm."""
        return self.final_norm(self.blocks(token_ids, positions, cache))

    def blocks(self, token_ids: torch.Tensor, positions: torch.Tensor, cache: KVCache | None) -> torch.Tensor:
        """token_ids, positions [T] -> the residual stream [T, D] after the last block. A prefill
        chunk whose logits nobody reads ends here; the norm is per row, so the last row alone
        through `final_norm` gives the same logits as the whole chunk would."""
        x = self.weights.embedding[token_ids].to(self.residual_dtype)    # [T, D]
        cos, sin = self.rope.cos_sin(positions)
        for i, layer in enumerate(self.weights.layers):
            x = x + self.attention(i, layer.attention, x, positions, cos, sin, cache)
            x = x + self.moe(layer.moe, x)
        return x

    def final_norm(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weights.norm, self.config.rms_norm_eps)

    def attention(self, i: int, w: AttentionWeights, x, positions, cos, sin, cache) -> torch.Tensor:
        c = self.config
        T = x.shape[0]
        linear = self.ops.linear
        if self.ops.project is not None:  # the same three steps in one call
            q, k, v = self.ops.project(x, w.norm, c.rms_norm_eps, (w.q_weight, w.k_weight, w.v_weight),
                                       (w.q_bias, w.k_bias, w.v_bias), cos, sin, 2, c.head_dim)
            q = q.view(T, c.num_attention_heads, c.head_dim)
            k = k.view(T, c.num_key_value_heads, c.head_dim)
            v = v.view(T, c.num_key_value_heads, c.head_dim)
        else:
            h = rms_norm(x, w.norm, c.rms_norm_eps)
            q = linear(h, w.q_weight, w.q_bias).view(T, c.num_attention_heads, c.head_dim)
            k = linear(h, w.k_weight, w.k_bias).view(T, c.num_key_value_heads, c.head_dim)
            v = linear(h, w.v_weight, w.v_bias).view(T, c.num_key_value_heads, c.head_dim)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is None:
            keys, values, key_positions = k, v, positions
        else:
            keys, values, key_positions = cache.layers[i].update(k, v, positions, cache.limit)
        window = c.sliding_window if c.is_sliding(i) else None
        o = self.ops.attention(q, keys, values, w.sinks, positions, key_positions, window, self.sm_scale)
        return linear(o, w.o_weight, w.o_bias)                           # [T, D]

    def moe(self, w: MoEWeights, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        h = rms_norm(x, w.norm, c.rms_norm_eps)
        return self.ops.moe(h, w.router_weight, w.router_bias, w.experts, c.num_experts_per_tok, c.swiglu_limit)

    def unembed(self, hidden: torch.Tensor) -> torch.Tensor:
        """hidden [T, D] -> logits [T, V] float32."""
        return self.ops.linear(hidden, self.weights.lm_head, None, torch.float32)
