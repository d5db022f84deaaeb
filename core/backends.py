"""Backends: which implementation of the hot paths (attention, MoE) the model calls.

"torch" runs everywhere and is the reference; the GPU kernels plug in here as another
`Ops` with the same call signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from kernels.attention import attention_torch
from kernels.moe import ExpertWeights, moe_torch
from kernels.mxfp4 import Mxfp4Decoder

BACKENDS = ("torch",)


@dataclass(frozen=True)
class Ops:
    attention: Callable  # (q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale) -> [T, Hq*hd]
    moe: Callable        # (x, router_weight, router_bias, experts, top_k, swiglu_limit) -> [T, D]


def torch_ops(experts: ExpertWeights, dtype: torch.dtype, device) -> Ops:
    decoder = Mxfp4Decoder(experts.largest_matrix, dtype=dtype, device=device)
    return Ops(attention=attention_torch, moe=partial(moe_torch, decoder=decoder))
