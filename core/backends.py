"""Backends: which implementation of the hot paths (attention, MoE) the model calls.

"torch" runs everywhere and is the reference. "triton" runs the kernels of kernels/ on the
packed MXFP4 experts: compiled on an NVIDIA GPU (compute capability 8.0+, the default
there), or interpreted on CPU tensors under TRITON_INTERPRET=1 (float32 only: the
interpreter's bf16 arithmetic is wrong, triton-lang/triton#11584), which is how the tests
run the whole model through it.

CUDA graphs: the triton ops issue no host sync and size their grids and workspaces from
shapes alone (kernels/_moe_triton.py groups pairs by expert on the device), so a decode
step whose tensors keep their shapes can be captured; the keys then come as the cache's
full-capacity buffers, empty slots at position -1, which the attention kernel masks and
skips. tests/kernels/test_compile.py checks the host side on meta tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from core.errors import InvalidInput
from kernels.attention import attention, attention_torch
from kernels.moe import ExpertWeights, moe, moe_torch
from kernels.mxfp4 import Mxfp4Decoder
from kernels.target import default_backend, interpreting, kernel_device

BACKENDS = ("torch", "triton")

__all__ = ["BACKENDS", "Ops", "default_backend", "make_ops", "torch_ops", "triton_ops"]


@dataclass(frozen=True)
class Ops:
    attention: Callable  # (q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale) -> [T, Hq*hd]
    moe: Callable        # (x, router_weight, router_bias, experts, top_k, swiglu_limit) -> [T, D]


def torch_ops(experts: ExpertWeights, dtype: torch.dtype, device) -> Ops:
    decoder = Mxfp4Decoder(experts.largest_tile, dtype=dtype, device=device)
    return Ops(attention=attention_torch, moe=partial(moe_torch, decoder=decoder))


def triton_ops(dtype: torch.dtype, device) -> Ops:
    """The Triton kernels, after checking they can run on `device` in `dtype`."""
    device = torch.device(device)
    if not kernel_device(device):
        if device.type == "cpu":
            raise InvalidInput("The triton backend runs on an NVIDIA graphics card; on the processor only under "
                               "Triton's interpreter (TRITON_INTERPRET=1, for tests). Use the torch backend.")
        raise InvalidInput("The triton backend needs an NVIDIA graphics card of compute capability 8.0 or newer "
                           "(RTX 30xx, A100 or later). Use the torch backend on this device.")
    if device.type == "cpu" and interpreting() and dtype != torch.float32:
        raise InvalidInput("Triton's interpreter computes bfloat16 and float16 wrongly; run it with float32.")
    return Ops(attention=attention, moe=moe)


def make_ops(backend: str, experts: ExpertWeights, dtype: torch.dtype, device) -> Ops:
    if backend not in BACKENDS:
        raise InvalidInput(f"Unknown compute backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    return triton_ops(dtype, device) if backend == "triton" else torch_ops(experts, dtype, device)
