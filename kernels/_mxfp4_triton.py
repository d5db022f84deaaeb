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
def _pow2(exponent):
    """2^exponent as float32, for integer exponents in the normal range [-126, 127], built
    from its bits: exact, with no exp2 (whose GPU version flushes and approximates)."""
    return ((exponent + 127) << 23).to(tl.float32, bitcast=True)


@triton.jit
def mxfp4_values(codes, scales):
    """e2m1 codes (int32, 0..15) and E8M0 scales (int32, 0..255) -> float32 values,
    code * 2^(scale - 127), exact wherever float32 can hold the result.

    The power 2^(e - 1 + scale - 127) spans [-128, 129], wider than one normal float32
    exponent, so it is applied as two normal factors: the second multiply rounds once,
    into a subnormal or to inf, the same as the float64 reference rounded to float32.
    """
    magnitude = codes & 7
    exponent = magnitude >> 1
    mantissa = (magnitude & 1).to(tl.float32)
    normal = exponent > 0
    significand = tl.where(normal, 1.0 + 0.5 * mantissa, mantissa)          # 0, 1 or 1.5
    power = tl.where(normal, exponent - 1, -1) + scales - 127
    low = power >> 1                                                        # floor(power / 2)
    value = significand * _pow2(low) * _pow2(power - low)
    sign = (codes & 8) << 28                                                # bit 3 -> bit 31: keeps -0.0
    return (value.to(tl.int32, bitcast=True) | sign).to(tl.float32, bitcast=True)


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
