"""Test helpers for kernels: closeness by relative max and RMS error, random MXFP4 tensors
and expert weights, every (code, scale) pair for exact format checks.

A matmul's error grows with its reduction length, and a few outliers say little about a
whole output, so closeness is judged two ways, each relative to the reference's scale:
the largest deviation over max|ref|, and the RMS deviation over RMS(ref).
"""

from __future__ import annotations

import math

import torch

from kernels.moe import ExpertWeights


def errors(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float]:
    """(max |a - e| / max |e|, rms(a - e) / rms(e)), in float64."""
    a, e = actual.double(), expected.double()
    diff = a - e
    max_rel = (diff.abs().max() / e.abs().max().clamp_min(1e-30)).item()
    rms_rel = (diff.pow(2).mean().sqrt() / e.pow(2).mean().sqrt().clamp_min(1e-30)).item()
    return max_rel, rms_rel


def assert_close(actual: torch.Tensor, expected: torch.Tensor, max_rel: float, rms_rel: float, what: str = "") -> None:
    """Fails unless shapes match, nothing is NaN, and both relative errors are within bounds."""
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert not torch.isnan(actual).any(), f"{what}: NaN in the result"
    got_max, got_rms = errors(actual, expected)
    assert got_max <= max_rel and got_rms <= rms_rel, (
        f"{what}: relative max error {got_max:.3g} (allowed {max_rel:.3g}), "
        f"relative RMS error {got_rms:.3g} (allowed {rms_rel:.3g})")


def random_mxfp4(shape: tuple[int, ...], generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random MXFP4 matrices [..., rows, cols] as (blocks [..., rows, cols/32, 16] uint8,
    scales [..., rows, cols/32] uint8); every code is drawn, and scales vary by 2^+-1 around
    the power of two that gives each output unit variance for unit-variance inputs."""
    *lead, cols = shape
    groups = cols // 32
    blocks = torch.randint(0, 256, (*lead, groups, 16), generator=generator, dtype=torch.uint8)
    center = round(127 - math.log2(2.9 * math.sqrt(cols)))  # uniform e2m1 codes have rms ~2.9
    scales = torch.randint(center - 1, center + 2, (*lead, groups), generator=generator).to(torch.uint8)
    return blocks, scales


def every_code_and_scale() -> tuple[torch.Tensor, torch.Tensor]:
    """(blocks [256, 16, 16], scales [256, 16]): for each scale byte 0..255, all 256 byte
    values (so both nibbles take every e2m1 code), including subnormal and overflowing results."""
    blocks = torch.arange(256, dtype=torch.uint8).view(16, 16).expand(256, 16, 16).contiguous()
    scales = torch.arange(256, dtype=torch.uint8).view(256, 1).expand(256, 16).contiguous()
    return blocks, scales


def random_experts(num_experts: int, hidden: int, intermediate: int, generator: torch.Generator,
                   dtype: torch.dtype = torch.float32) -> ExpertWeights:
    gate_up_blocks, gate_up_scales = random_mxfp4((num_experts, 2 * intermediate, hidden), generator)
    down_blocks, down_scales = random_mxfp4((num_experts, hidden, intermediate), generator)
    gate_up_bias = 0.02 * torch.randn(num_experts, 2 * intermediate, generator=generator)
    down_bias = 0.02 * torch.randn(num_experts, hidden, generator=generator)
    return ExpertWeights(gate_up_blocks, gate_up_scales, gate_up_bias.to(dtype), down_blocks, down_scales,
                         down_bias.to(dtype))
