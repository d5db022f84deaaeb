"""Backends: which implementation of the hot paths (attention, MoE) the model calls.

"torch" runs everywhere and is the reference. "cpu" runs the compiled CPU kernels
(kernels/cpu/, the default on the processor where they are built and load): MoE on the
packed MXFP4 experts, and a decode step's projections, attention and lm_head at the
memory's speed. "triton" runs the kernels of kernels/ on the
packed MXFP4 experts: compiled on an NVIDIA GPU (compute capability 8.0+, the default
there), or interpreted on CPU tensors under TRITON_INTERPRET=1 (float32 only: the
interpreter's bf16 arithmetic is wrong, triton-lang/triton#11584), which is how the tests
run the whole model through it.

CUDA graphs: the triton ops issue no host sync and size their grids and workspaces from
shapes alone (kernels/_moe_triton.py groups pairs by expert on the device), so a decode
step whose tensors keep their shapes can be captured; the keys then come as the cache's
full-capacity buffers, empty slots at position -1, which the attention kernel masks and
skips. tests/kernels/test_compile.py checks the ops' host side on meta tensors, and
tests/core/engine/test_cuda_graphs.py a whole decode step (core/engine/cuda_graphs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from core.errors import InvalidInput
from kernels.attention import attention, attention_cpu, attention_torch
from kernels.linear import linear_cpu, linear_torch, project_cpu
from kernels.moe import ExpertWeights, moe, moe_cpu, moe_torch
from kernels.mxfp4 import Mxfp4Decoder
from kernels.target import default_backend, interpreting, kernel_device

BACKENDS = ("torch", "cpu", "triton")

__all__ = ["BACKENDS", "Ops", "cpu_ops", "default_backend", "make_ops", "torch_ops", "triton_ops"]


@dataclass(frozen=True)
class Ops:
    attention: Callable  # (q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale) -> [T, Hq*hd]
    moe: Callable        # (x, router_weight, router_bias, experts, top_k, swiglu_limit) -> [T, D]
    linear: Callable = linear_torch  # (x, weight, bias=None, out_dtype=None) -> [T, N]
    # Where a backend has it: norm, several projections of one input and rope in one call,
    # (x, norm, eps, weights, biases, cos, sin, rope_outputs, head_dim) -> [outputs]; else the
    # transformer composes rms_norm, linear and apply_rope itself.
    project: Callable | None = None
    # The residual stream in float32 (as llama.cpp keeps it), weights and KV cache in the compute
    # dtype: the compiled CPU ops take float32 activations at no cost, and the bf16 rounding of
    # every block's output otherwise swaps near-tied experts in the next router.
    float32_residual: bool = False
    # The ops issue no host sync and size everything from shapes, so a decode step can be
    # captured in a CUDA graph (core/engine/cuda_graphs.py). The torch MoE reads the chosen
    # experts back to the host.
    graph_safe: bool = False


def torch_ops(experts: ExpertWeights, dtype: torch.dtype, device) -> Ops:
    decoder = Mxfp4Decoder(experts.largest_tile, dtype=dtype, device=device)
    return Ops(attention=attention_torch, moe=partial(moe_torch, decoder=decoder))


def cpu_ops(device, dtype: torch.dtype = torch.bfloat16) -> Ops:
    """The compiled CPU kernels, after checking they load on this processor. The fused
    projections need bfloat16 weights; float32 models compose torch's."""
    from kernels import _cpu

    if torch.device(device).type != "cpu":
        raise InvalidInput("The cpu backend runs on the processor; use the triton or torch backend on a GPU.")
    try:
        kernels = _cpu.load()
    except _cpu.KernelsUnavailable as error:
        raise InvalidInput(f"The compiled processor kernels cannot be used: {error}. "
                           "Use the torch backend, or reinstall Hearth to build them.") from error
    return Ops(attention=partial(attention_cpu, kernels=kernels), moe=partial(moe_cpu, kernels=kernels),
               linear=partial(linear_cpu, kernels=kernels),
               project=partial(project_cpu, kernels=kernels) if dtype == torch.bfloat16 else None,
               float32_residual=True)


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
    return Ops(attention=attention, moe=moe, graph_safe=True)


def make_ops(backend: str, experts: ExpertWeights, dtype: torch.dtype, device) -> Ops:
    if backend not in BACKENDS:
        raise InvalidInput(f"Unknown compute backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "triton":
        return triton_ops(dtype, device)
    if backend == "cpu":
        return cpu_ops(device, dtype)
    return torch_ops(experts, dtype, device)
