"""Mixture of experts on MXFP4 weights: router, interleaved clamped SwiGLU, expert matmuls.

Shapes: T tokens, D hidden, E experts, K active per token, I intermediate.

`moe_torch` is the PyTorch path (the CPU engine and the reference for the GPU kernels):
only the experts some token routes to are decoded, one matrix at a time, into a reused
buffer; every token of the chunk that uses an expert shares that one decode.

`moe` and `route` are the Triton kernels (kernels/_moe_triton.py) with the same signatures:
on a GPU, or on CPU tensors under TRITON_INTERPRET=1.

`moe_cpu` is the compiled CPU op (kernels/cpu/moe.c through kernels/_cpu.py): the routed
experts read in place from the memory-mapped MXFP4 blocks and decoded in SIMD registers,
the activations quantized to int16 per 32-value block (to int8 per 8 values where the
processor has AVX-512 VNNI), float32 accumulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kernels.linear import CPU_MAX_TOKENS
from kernels.mxfp4 import Mxfp4Decoder

SWIGLU_ALPHA = 1.702
# Output rows decoded per step: the decoded tile (and its gather index) stay in the CPU's
# cache for the matmul that reads them, instead of a whole 33 MB matrix going through memory.
DECODE_ROWS = 1024


@dataclass(frozen=True)
class ExpertWeights:
    gate_up_blocks: torch.Tensor  # [E, 2I, D/32, 16] uint8
    gate_up_scales: torch.Tensor  # [E, 2I, D/32] uint8
    gate_up_bias: torch.Tensor    # [E, 2I]
    down_blocks: torch.Tensor     # [E, D, I/32, 16] uint8
    down_scales: torch.Tensor     # [E, D, I/32] uint8
    down_bias: torch.Tensor       # [E, D]

    @property
    def largest_tile(self) -> int:
        """Values in the largest tile `moe_torch` decodes at once (what its decode buffer must hold)."""
        _, rows, groups, _ = self.gate_up_blocks.shape
        _, down_rows, down_groups, _ = self.down_blocks.shape
        return max(min(rows, DECODE_ROWS) * groups, min(down_rows, DECODE_ROWS) * down_groups) * 32


def route_torch(x: torch.Tensor, router_weight: torch.Tensor, router_bias: torch.Tensor,
                top_k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x [T, D] -> (weights [T, K] float32, experts [T, K] int64): the top-k router logits,
    sorted, with a softmax over those k values only."""
    return top_k_softmax(F.linear(x, router_weight, router_bias).float(), top_k)  # logits [T, E]


def top_k_softmax(logits: torch.Tensor, top_k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """logits [T, E] -> (weights [T, K], experts [T, K]): the top-k, sorted, softmax over those k."""
    top = torch.topk(logits, top_k, dim=-1, sorted=True)
    return torch.softmax(top.values, dim=-1), top.indices


def swiglu_torch(h: torch.Tensor, limit: float, alpha: float = SWIGLU_ALPHA) -> torch.Tensor:
    """h [T, 2I] -> [T, I]: gate and linear halves interleaved (0::2, 1::2), clamped."""
    gate = h[..., 0::2].clamp(max=limit)
    linear = h[..., 1::2].clamp(min=-limit, max=limit)
    return gate * torch.sigmoid(alpha * gate) * (linear + 1)


def moe_torch(x: torch.Tensor, router_weight: torch.Tensor, router_bias: torch.Tensor,
              experts: ExpertWeights, top_k: int, swiglu_limit: float,
              decoder: Mxfp4Decoder | None = None) -> torch.Tensor:
    """x [T, D] -> [T, D]: sum over each token's K experts of weight * expert(x)."""
    if decoder is None:
        decoder = Mxfp4Decoder(experts.largest_tile, dtype=x.dtype, device=x.device)
    weights, chosen = route_torch(x, router_weight, router_bias, top_k)    # [T, K]
    out = torch.zeros(x.shape, dtype=torch.float32, device=x.device)      # [T, D]
    for expert in torch.unique(chosen).tolist():
        tokens, slot = torch.nonzero(chosen == expert, as_tuple=True)      # [n], [n]
        xe = x[tokens]                                                     # [n, D]
        h = _mxfp4_linear(xe, experts.gate_up_blocks[expert], experts.gate_up_scales[expert],
                          experts.gate_up_bias[expert], decoder)          # [n, 2I]
        a = swiglu_torch(h, swiglu_limit)                                  # [n, I]
        y = _mxfp4_linear(a, experts.down_blocks[expert], experts.down_scales[expert],
                          experts.down_bias[expert], decoder)             # [n, D]
        # A token picks an expert at most once, so `tokens` has no repeats: a plain indexed add
        # is exact, and far cheaper on the CPU than index_add_'s scatter.
        out[tokens] += y.float() * weights[tokens, slot].unsqueeze(-1)
    return out.to(x.dtype)


def _mxfp4_linear(x: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor,
                  decoder: Mxfp4Decoder) -> torch.Tensor:
    """x [n, in] @ W.T + bias for one MXFP4 matrix W [out, in], decoded DECODE_ROWS rows at a time."""
    rows = blocks.shape[0]
    parts = [F.linear(x, decoder.decode(blocks[r:r + DECODE_ROWS], scales[r:r + DECODE_ROWS]),
                      bias[r:r + DECODE_ROWS].to(x.dtype))
             for r in range(0, rows, DECODE_ROWS)]
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)


def moe_cpu(x: torch.Tensor, router_weight: torch.Tensor, router_bias: torch.Tensor,
            experts: ExpertWeights, top_k: int, swiglu_limit: float, kernels=None) -> torch.Tensor:
    """`moe_torch` through the compiled CPU kernels (`kernels`: a kernels._cpu.CpuKernels,
    by default the best this processor runs). The router stays in torch: one small matmul."""
    from kernels import _cpu

    kernels = kernels or _cpu.load()
    # Router logits in float32, as the model was trained: rounded to bfloat16 they tie often
    # enough to swap experts, which moves that token's output by far more than any rounding.
    if x.shape[0] <= CPU_MAX_TOKENS and router_weight.dtype == torch.bfloat16:
        logits = kernels.linear(x, router_weight, router_bias)             # [T, E]
    else:
        logits = F.linear(x.float(), router_weight.float(), router_bias.float())
    weights, chosen = top_k_softmax(logits, top_k)                       # [T, K]
    return kernels.moe(x, chosen, weights, experts, swiglu_limit, SWIGLU_ALPHA).to(x.dtype)


def route(x: torch.Tensor, router_weight: torch.Tensor, router_bias: torch.Tensor,
          top_k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`route_torch` in one Triton kernel: logits, top-k and the softmax over the k, per token."""
    from kernels import _moe_triton  # Triton exists on Linux only; the CPU engine never needs it

    return _moe_triton.route(x, router_weight, router_bias, top_k)


def moe(x: torch.Tensor, router_weight: torch.Tensor, router_bias: torch.Tensor,
        experts: ExpertWeights, top_k: int, swiglu_limit: float,
        decoder: Mxfp4Decoder | None = None) -> torch.Tensor:
    """`moe_torch` on the packed MXFP4 experts through the Triton kernels. `decoder` is
    accepted so either op can be called the same way; the kernels decode in registers."""
    from kernels import _moe_triton

    return _moe_triton.moe(x, router_weight, router_bias, experts, top_k, swiglu_limit, SWIGLU_ALPHA)
