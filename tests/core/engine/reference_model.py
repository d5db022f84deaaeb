"""An independent, deliberately plain gpt-oss forward pass in float32, written from
../shared/spec/gpt-oss.md only (it imports nothing from core/ or kernels/).

Everything is dequantized up front, attention is a dense einsum with the sink column and
explicit masks built with Python loops: slow, but each step can be checked by eye.
"""

from __future__ import annotations

import math

import torch

E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def dequantize(blocks: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """[..., rows, G, 16] uint8 + [..., rows, G] -> [..., rows, G*32] float32."""
    lut = torch.tensor(E2M1, dtype=torch.float64)
    low = lut[(blocks & 15).long()]
    high = lut[(blocks >> 4).long()]
    values = torch.empty(*blocks.shape[:-1], 32, dtype=torch.float64)
    values[..., 0::2] = low   # element 2j is the low nibble
    values[..., 1::2] = high
    values = values * (2.0 ** (scales.double() - 127)).unsqueeze(-1)
    return values.flatten(-2).float()


def rms_norm(x, weight, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * weight


def yarn_cos_sin(positions: int, c) -> tuple[torch.Tensor, torch.Tensor]:
    hd = c["head_dim"]
    d = hd // 2
    rope = c["rope_scaling"]
    theta, factor, L0 = c["rope_theta"], rope["factor"], rope["original_max_position_embeddings"]
    beta_fast, beta_slow = c["rope_scaling"]["beta_fast"], c["rope_scaling"]["beta_slow"]
    extrapolation = [1.0 / theta ** (2 * i / hd) for i in range(d)]
    low = d * math.log(L0 / (beta_fast * 2 * math.pi)) / math.log(theta)
    high = d * math.log(L0 / (beta_slow * 2 * math.pi)) / math.log(theta)
    inv_freq = []
    for i in range(d):
        ramp = min(1.0, max(0.0, (i - low) / (high - low)))
        inv_freq.append(extrapolation[i] / factor * ramp + extrapolation[i] * (1 - ramp))
    angles = torch.tensor([[p * f for f in inv_freq] for p in range(positions)], dtype=torch.float64)
    scale = 0.1 * math.log(factor) + 1.0
    return (angles.cos() * scale).float(), (angles.sin() * scale).float()


def rotate(x, cos, sin):
    """x [T, H, hd]: half-split rotation."""
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d], x[..., d:]
    cos, sin = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def reference_logits(tensors: dict[str, torch.Tensor], config: dict, token_ids: list[int]) -> torch.Tensor:
    """float32 [T, V] logits of the Hugging Face-named `tensors` and HF `config` dict."""
    w = {name: (t.float() if t.dtype != torch.uint8 else t) for name, t in tensors.items()}
    c = config
    T = len(token_ids)
    Hq, Hkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps, limit = c["rms_norm_eps"], c["swiglu_limit"]
    cos, sin = yarn_cos_sin(T, c)
    x = w["model.embed_tokens.weight"][torch.tensor(token_ids)]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        sliding = c["layer_types"][i] == "sliding_attention"
        # Attention
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T + w[p + "self_attn.q_proj.bias"]).view(T, Hq, hd)
        k = (h @ w[p + "self_attn.k_proj.weight"].T + w[p + "self_attn.k_proj.bias"]).view(T, Hkv, hd)
        v = (h @ w[p + "self_attn.v_proj.weight"].T + w[p + "self_attn.v_proj.bias"]).view(T, Hkv, hd)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        mask = torch.zeros(T, T, dtype=torch.bool)
        for query in range(T):
            for key in range(T):
                mask[query, key] = key <= query and (not sliding or query - key < c["sliding_window"])
        heads = []
        for head in range(Hq):
            kv = head // (Hq // Hkv)
            scores = (q[:, head] @ k[:, kv].T) / math.sqrt(hd)
            scores = scores.masked_fill(~mask, float("-inf"))
            sink = w[p + "self_attn.sinks"][head].expand(T, 1)
            probs = torch.softmax(torch.cat([scores, sink], dim=1), dim=1)[:, :T]
            heads.append(probs @ v[:, kv])
        o = torch.cat(heads, dim=1)
        x = x + o @ w[p + "self_attn.o_proj.weight"].T + w[p + "self_attn.o_proj.bias"]
        # Mixture of experts
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        router = h @ w[p + "mlp.router.weight"].T + w[p + "mlp.router.bias"]
        top = torch.topk(router, c["num_experts_per_tok"], dim=-1, sorted=True)
        gates = torch.softmax(top.values, dim=-1)
        w1 = dequantize(w[p + "mlp.experts.gate_up_proj_blocks"], w[p + "mlp.experts.gate_up_proj_scales"])
        w2 = dequantize(w[p + "mlp.experts.down_proj_blocks"], w[p + "mlp.experts.down_proj_scales"])
        out = torch.zeros_like(x)
        for t in range(T):
            for slot in range(c["num_experts_per_tok"]):
                e = int(top.indices[t, slot])
                up = w1[e] @ h[t] + w[p + "mlp.experts.gate_up_proj_bias"][e]
                gate, linear = up[0::2].clamp(max=limit), up[1::2].clamp(-limit, limit)
                act = gate * torch.sigmoid(1.702 * gate) * (linear + 1)
                out[t] += gates[t, slot] * (w2[e] @ act + w[p + "mlp.experts.down_proj_bias"][e])
        x = x + out
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w["lm_head.weight"].T
