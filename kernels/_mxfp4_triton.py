"""Triton bodies for MXFP4: the in-register decode every expert kernel uses, and a
standalone dequantize kernel (the exactness check of that decode against
`kernels.mxfp4.dequantize_mxfp4_torch`).

Launched from `kernels.mxfp4.dequantize_mxfp4`; the `launch` argument is how the compile
check records launches instead of running them (`kernels.target`).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels.target import run


@triton.jit
def e2m1_values(codes):
    """e2m1 codes (int32, 0..15) -> float32: 0, 0.5, 1, 1.5, 2, 3, 4, 6, then the same
    negated. Float arithmetic on the 3-bit magnitude, no table; the sign comes from a
    multiply by -1 (Triton's unary minus is 0 - x, which would lose -0.0)."""
    magnitude = codes & 7
    m = magnitude.to(tl.float32)
    value = tl.where(magnitude < 4, 0.5 * m, tl.where(magnitude < 7, m - 2.0, 6.0))
    return tl.where(codes >= 8, value * -1.0, value)


@triton.jit
def e8m0_factors(scales):
    """E8M0 scales (int32, 0..255) -> two normal float32 factors whose product is
    2^(scale - 127), built from their exponent bits (no exp2: the GPU's flushes subnormals).

    One factor cannot hold 2^-127 or 2^128, and value * 2^-127 must round like the float64
    reference: value * f1 is exact, value * f1 * f2 rounds once, into a subnormal or to inf."""
    half = scales >> 1
    f1 = ((half + 63) << 23).to(tl.float32, bitcast=True)            # 2^(half - 64)
    f2 = ((scales - half + 64) << 23).to(tl.float32, bitcast=True)   # 2^(scale - half - 63)
    return f1, f2


@triton.jit
def mxfp4_values(codes, scales):
    """codes (int32, 0..15) and scales (int32, 0..255) -> float32 code * 2^(scale - 127),
    exact wherever float32 can hold the result."""
    f1, f2 = e8m0_factors(scales)
    return e2m1_values(codes) * f1 * f2


@triton.jit
def _dequantize_kernel(blocks_ptr, scales_ptr, out_ptr, n_bytes, BLOCK: tl.constexpr):
    # One program decodes BLOCK bytes (2 * BLOCK values); byte i belongs to scale i // 16.
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = i < n_bytes
    byte = tl.load(blocks_ptr + i, mask=mask, other=0).to(tl.int32)
    scale = tl.load(scales_ptr + i // 16, mask=mask, other=127).to(tl.int32)
    dtype = out_ptr.dtype.element_ty
    tl.store(out_ptr + 2 * i, mxfp4_values(byte & 15, scale).to(dtype), mask=mask)
    tl.store(out_ptr + 2 * i + 1, mxfp4_values(byte >> 4, scale).to(dtype), mask=mask)


def dequantize(blocks: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype, launch=run) -> torch.Tensor:
    """[..., G, 16] uint8 and [..., G] uint8 -> [..., G*32] `dtype`."""
    blocks, scales = blocks.contiguous(), scales.contiguous()
    out = torch.empty((*scales.shape[:-1], scales.shape[-1] * 32), dtype=dtype, device=blocks.device)
    n_bytes = blocks.numel()
    block = 1024
    launch(_dequantize_kernel, (triton.cdiv(n_bytes, block),), blocks, scales, out, n_bytes, BLOCK=block)
    return out
