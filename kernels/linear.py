"""Dense layers on bfloat16 weights: the attention projections, the router and lm_head.

Shapes: T tokens, C input features, N outputs.

`linear_torch` is F.linear (the reference). `linear_cpu` is the compiled CPU op
(kernels/cpu/linear.c): weights widened from bfloat16 to float32 in registers; a decode step
reads each row once at the memory's speed (lm_head alone is 1.16 GB per token on
gpt-oss-20b), and a prefill chunk runs some 10x faster than torch's bf16 GEMM on processors
without native bf16 arithmetic.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Tokens up to which the compiled router serves a MoE call (kernels/moe.py).
CPU_MAX_TOKENS = 4


def linear_torch(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 out_dtype: torch.dtype | None = None) -> torch.Tensor:
    """x [T, C] @ weight [N, C]^T + bias -> [T, N] in `out_dtype` (default: x's), computed in
    the weight's dtype."""
    y = F.linear(x.to(weight.dtype), weight, bias.to(weight.dtype) if bias is not None else None)
    return y.to(out_dtype or x.dtype)


def linear_cpu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
               out_dtype: torch.dtype | None = None, kernels=None) -> torch.Tensor:
    """`linear_torch` through the compiled CPU kernels on bfloat16 weights; accumulated and
    returned in float32 before the cast to `out_dtype`."""
    if weight.dtype != torch.bfloat16:
        return linear_torch(x, weight, bias, out_dtype)
    from kernels import _cpu

    kernels = kernels or _cpu.load()
    return kernels.linear(x, weight, bias).to(out_dtype or x.dtype)


def project_cpu(x: torch.Tensor, norm: torch.Tensor | None, eps: float, weights, biases, cos=None, sin=None,
                rope_outputs: int = 0, head_dim: int = 0, kernels=None) -> list[torch.Tensor]:
    """A block's RMS norm, its projections and rotary embeddings in one compiled call (a decode
    step's q, k and v from one pass of the threads), each output [T, N] in x's dtype. Its torch
    twin is core's rms_norm, `linear_torch` per weight and apply_rope, composed by the
    transformer (tests/kernels/test_linear_cpu.py compares the two)."""
    from kernels import _cpu

    kernels = kernels or _cpu.load()
    outs = kernels.project(x, norm, eps, weights, biases, cos, sin, rope_outputs, head_dim)
    return [out.to(x.dtype) for out in outs]
