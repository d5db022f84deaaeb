"""MXFP4 decoding: exact for every code and every scale edge case (no tolerance: a format
conversion is right or wrong)."""

from __future__ import annotations

import math

import pytest
import torch

from kernels.mxfp4 import FP4_VALUES, Mxfp4Decoder, dequantize_mxfp4_torch

SCALES = [0, 1, 126, 127, 128, 254, 255]


def expected(code: int, scale: int, dtype: torch.dtype) -> float:
    # Python floats are float64, where code * 2^(scale-127) is exact; one rounding to dtype.
    return torch.tensor(math.ldexp(FP4_VALUES[code], scale - 127), dtype=torch.float64).to(dtype).item()


def every_code_block() -> torch.Tensor:
    """One block holding codes 0..15 twice: byte j = code (2j % 16) low, code (2j+1 % 16) high."""
    codes = [i % 16 for i in range(32)]
    return torch.tensor([codes[2 * j] | (codes[2 * j + 1] << 4) for j in range(16)], dtype=torch.uint8)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_reference_decodes_every_code_exactly(scale, dtype):
    blocks = every_code_block().view(1, 16)
    scales = torch.tensor([scale], dtype=torch.uint8)
    out = dequantize_mxfp4_torch(blocks, scales, dtype)
    want = torch.tensor([expected(i % 16, scale, dtype) for i in range(32)], dtype=dtype)
    assert torch.equal(out, want)
    assert torch.equal(torch.signbit(out), torch.signbit(want))  # -0.0 stays negative zero


def test_spec_values_and_nibble_order():
    # byte 0x21: low nibble 1 (0.5) is element 0, high nibble 2 (1.0) is element 1.
    blocks = torch.zeros(1, 16, dtype=torch.uint8)
    blocks[0, 0] = 0x21
    blocks[0, 1] = 0xF8  # low 8 (-0.0), high 15 (-6.0)
    out = dequantize_mxfp4_torch(blocks, torch.tensor([127], dtype=torch.uint8))
    assert out[:4].tolist() == [0.5, 1.0, -0.0, -6.0]
    assert out[1] == 1.0 and out[4:].abs().sum() == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_fast_decoder_equals_reference_for_all_bytes_and_scales(dtype):
    # Every byte value under every scale value: 256 rows x 16 blocks of 16 bytes.
    bytes_ = torch.arange(256, dtype=torch.uint8).view(16, 16).repeat(256, 1, 1)          # [256, 16, 16]
    scales = torch.arange(256, dtype=torch.uint8).view(256, 1).expand(256, 16).contiguous()  # [256, 16]
    decoder = Mxfp4Decoder(256 * 16 * 32, dtype)
    fast = decoder.decode(bytes_, scales)
    assert torch.equal(fast, dequantize_mxfp4_torch(bytes_, scales, dtype))


def test_fast_decoder_reuses_its_buffer_for_smaller_matrices():
    g = torch.Generator().manual_seed(0)
    decoder = Mxfp4Decoder(64 * 4 * 32)
    for rows, groups in [(64, 4), (7, 3), (1, 1)]:
        blocks = torch.randint(0, 256, (rows, groups, 16), generator=g, dtype=torch.uint8)
        scales = torch.randint(100, 140, (rows, groups), generator=g, dtype=torch.uint8)
        assert torch.equal(decoder.decode(blocks, scales), dequantize_mxfp4_torch(blocks, scales, torch.bfloat16))
