"""The Triton MXFP4 decode (the one every expert kernel runs in registers) against the
exact reference: bit-identical, no tolerance (a format conversion is right or wrong)."""

from __future__ import annotations

import pytest
import torch

from kernels.mxfp4 import dequantize_mxfp4, dequantize_mxfp4_torch
from kernels.testing import every_code_and_scale, random_mxfp4

BITS = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def assert_bitwise_equal(actual, expected):
    # Bit patterns, so -0.0 != +0.0 and inf/subnormals must match exactly.
    dtype = BITS[expected.dtype]
    assert torch.equal(actual.view(dtype), expected.view(dtype))


# numpy, which runs the interpreter, warns when a product overflows to inf: here that is the point.
OVERFLOW_IS_EXPECTED = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


@OVERFLOW_IS_EXPECTED
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_every_code_under_every_scale(dtype):
    # All 256 scale bytes x all 256 byte values: subnormal results (scale 0, 1), overflow to
    # inf (scale 255 against the fp16 or fp32 range), signed zeros.
    blocks, scales = every_code_and_scale()
    assert_bitwise_equal(dequantize_mxfp4(blocks, scales, dtype), dequantize_mxfp4_torch(blocks, scales, dtype))


@OVERFLOW_IS_EXPECTED
def test_bfloat16_for_scales_with_normal_results():
    # The interpreter's float32 -> bf16 cast flushes subnormals (triton-lang/triton#11584);
    # on a GPU the cast is the hardware's round-to-nearest. Scales >= 2 give only normal or
    # infinite bf16 values, which must be bit-identical.
    blocks, scales = every_code_and_scale()
    blocks, scales = blocks[2:], scales[2:]
    assert_bitwise_equal(dequantize_mxfp4(blocks, scales, torch.bfloat16),
                         dequantize_mxfp4_torch(blocks, scales, torch.bfloat16))


def test_real_row_length_and_odd_row_count():
    # One gate_up matrix slice at the real input width 2880 (90 blocks), 7 rows.
    blocks, scales = random_mxfp4((7, 2880), torch.Generator().manual_seed(0))
    out = dequantize_mxfp4(blocks, scales, torch.float32)
    assert out.shape == (7, 2880)
    assert_bitwise_equal(out, dequantize_mxfp4_torch(blocks, scales, torch.float32))
