"""MXFP4: the 4-bit expert weights of gpt-oss, and their decoding.

A block is 32 values along the input dimension: 16 bytes of e2m1 codes (element 2j in
the low nibble, 2j+1 in the high nibble) and one E8M0 scale byte, value = code * 2^(scale-127).

`dequantize_mxfp4_torch` is the exact reference; `dequantize_mxfp4` runs the Triton decode
the expert kernels use in registers (kernels/_mxfp4_triton.py). `Mxfp4Decoder` is the CPU fast path:
it decodes one expert matrix at a time into a reused buffer, with a single gather from a
(scale, byte) -> (value, value) table, so no per-element arithmetic pass is needed.
"""

from __future__ import annotations

import torch

FP4_VALUES = (+0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)
BLOCK = 32          # values per block
BYTES_PER_BLOCK = 16
SCALE_BIAS = 127


def dequantize_mxfp4_torch(blocks: torch.Tensor, scales: torch.Tensor,
                           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[..., G, 16] uint8 codes and [..., G] uint8 scales -> [..., G*32] values.

    Exact: computed in float64 (where every code * 2^(scale-127) is exact), then rounded
    once to `dtype`. Scale 255 follows the published reference (2^128, no NaN): results
    beyond the dtype's range become +-inf, zeros stay (signed) zeros.
    """
    lut = torch.tensor(FP4_VALUES, dtype=torch.float64, device=blocks.device)
    codes = torch.stack([blocks & 0x0F, blocks >> 4], dim=-1).long()      # [..., G, 16, 2]
    values = lut[codes].flatten(-2)                                        # [..., G, 32]
    factor = torch.exp2(scales.double() - SCALE_BIAS).unsqueeze(-1)        # [..., G, 1]
    return (values * factor).flatten(-2).to(dtype)


def dequantize_mxfp4(blocks: torch.Tensor, scales: torch.Tensor,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """`dequantize_mxfp4_torch` through the Triton kernel (GPU, or CPU under the interpreter)."""
    from kernels import _mxfp4_triton  # Triton exists on Linux only; the CPU engine never needs it

    return _mxfp4_triton.dequantize(blocks, scales, dtype)


def pair_table(dtype: torch.dtype) -> torch.Tensor:
    """[256 * 256] table: entry scale*256 + byte holds the byte's two decoded values,
    packed into one integer of twice the dtype's width (so one gather yields both)."""
    byte = torch.arange(256)
    lut = torch.tensor(FP4_VALUES, dtype=torch.float64)
    pair = torch.stack([lut[byte & 0x0F], lut[byte >> 4]], dim=-1)         # [256, 2]
    factor = torch.exp2(torch.arange(256, dtype=torch.float64) - SCALE_BIAS)
    table = (factor.view(256, 1, 1) * pair.view(1, 256, 2)).to(dtype)      # [scale, byte, 2]
    return table.view(_pair_int(dtype)).reshape(256 * 256).contiguous()


def _pair_int(dtype: torch.dtype) -> torch.dtype:
    size = torch.empty((), dtype=dtype).element_size()
    return {2: torch.int32, 4: torch.int64}[size]


class Mxfp4Decoder:
    """Decodes one [rows, cols] MXFP4 matrix at a time into a buffer it reuses.

    The buffers are allocated once, at the largest matrix size: fresh multi-MB tensors
    per call would cost more in page faults than the decoding itself.
    """

    def __init__(self, max_elements: int, dtype: torch.dtype = torch.bfloat16, device="cpu"):
        self.dtype = dtype
        self.table = pair_table(dtype).to(device)
        self._index = torch.empty(max_elements // 2, dtype=torch.int32, device=device)
        self._values = torch.empty(max_elements, dtype=dtype, device=device)
        self._scale_rows = torch.empty(max_elements // BLOCK, dtype=torch.int32, device=device)

    def decode(self, blocks: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
        """[R, G, 16] uint8 and [R, G] uint8 -> [R, G*32] view into the reused buffer."""
        rows, groups, _ = blocks.shape
        pairs = rows * groups * BYTES_PER_BLOCK
        index = self._index[:pairs].view(rows, groups, BYTES_PER_BLOCK)
        scale_rows = self._scale_rows[: rows * groups].view(rows, groups)
        # index = scale*256 + byte, in same-dtype passes: a mixed uint8/int32 add is 2x slower.
        torch.mul(scale_rows.copy_(scales), 256, out=scale_rows)
        index.copy_(blocks).add_(scale_rows.unsqueeze(-1))
        values = self._values[: 2 * pairs]
        torch.index_select(self.table, 0, index.view(-1), out=values.view(self.table.dtype))
        return values.view(rows, groups * BLOCK)
