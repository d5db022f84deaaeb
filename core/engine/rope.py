"""Rotary position embedding with YaRN (NTK-by-parts) scaling, "half-split" style.

Fast-rotating dimensions keep their frequency, slow ones are interpolated by the scaling
factor, with a linear ramp between; cos and sin carry YaRN's attention factor.
"""

from __future__ import annotations

import math

import torch

from core.engine.config import ModelConfig


def yarn_inv_freq(config: ModelConfig) -> torch.Tensor:
    """[hd/2] float32 inverse frequencies."""
    d_half = config.head_dim / 2
    i = torch.arange(0, config.head_dim, 2, dtype=torch.float32)
    extrapolation = 1.0 / (config.rope_theta ** (i / config.head_dim))
    if config.rope_scaling_factor <= 1:
        return extrapolation
    interpolation = extrapolation / config.rope_scaling_factor
    L0, theta = config.rope_original_max_position_embeddings, config.rope_theta
    low = d_half * math.log(L0 / (config.rope_beta_fast * 2 * math.pi)) / math.log(theta)
    high = d_half * math.log(L0 / (config.rope_beta_slow * 2 * math.pi)) / math.log(theta)
    ramp = ((torch.arange(d_half, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    return interpolation * ramp + extrapolation * (1 - ramp)


class Rope:
    def __init__(self, config: ModelConfig, device="cpu"):
        self.inv_freq = yarn_inv_freq(config).to(device)
        self.attention_factor = config.rope_attention_factor

    def cos_sin(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """positions [T] -> cos, sin [T, 1, hd/2] float32 (broadcast over heads)."""
        freqs = positions.to(torch.float32)[:, None] * self.inv_freq[None, :]
        return ((freqs.cos() * self.attention_factor).unsqueeze(1),
                (freqs.sin() * self.attention_factor).unsqueeze(1))


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [T, H, hd]: rotates the first half of each head against the second half."""
    x1, x2 = x.float().chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)
