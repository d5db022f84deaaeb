"""Memory plan: what a model needs on a device for a given context length, and the context
the engine grants when the card is smaller than the model's full context.

need = weights (experts packed MXFP4, the rest in the compute dtype)
     + KV cache (sliding layers hold `sliding_window` positions, full layers the context:
       on CUDA the cache is allocated at full size up front, core.engine.kv_cache's static layout)
     + workspace (one prefill chunk's activations, the MoE and attention scratch of the
       chosen backend, one row of logits; with a growing cache, the buffer a full layer
       leaves behind while it doubles)
     + a reserve for the allocator's rounding and cuBLAS.
Byte counts follow core/engine/kv_cache.py and core/engine/model.py as written, with their
sizes from core/engine/constants.py and kernels/limits.py; a change to the cache layout belongs
here too. This is the one place Hearth does this
arithmetic: core.system.hardware's fit planner asks the same functions, so it imports no torch
(dtypes are given as torch dtypes or by name, e.g. "bfloat16").
"""

from __future__ import annotations

from dataclasses import dataclass

from core.engine.config import ModelConfig
from core.engine.constants import KV_FIRST_CAPACITY, POSITION_BYTES, PREFILL_CHUNK
from core.errors import NotEnoughMemory
from core.units import size_text
from kernels.limits import MAX_SCORES

RESERVE = 512 * 2**20     # allocator rounding and fragmentation, cuBLAS workspace
# Not part of `plan_memory`: device_context asks CUDA for free memory after torch has made its
# context, so the context is already taken. A planner reading the card before that (NVML, as
# core.system.hardware does) must add it: torch's context with lazily loaded kernels, ~0.3-0.5 GiB.
CUDA_CONTEXT = 512 * 2**20
MIN_CONTEXT = 4096        # below this a chat is not worth starting: refuse instead
MXFP4_BLOCK_BYTES = 17    # 16 bytes of codes + 1 scale per 32 weights
_ELEMENT_SIZE = {"bfloat16": 2, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class MemoryPlan:
    context_length: int
    weights: int
    kv_cache: int
    workspace: int
    reserve: int = RESERVE

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.workspace + self.reserve

    @property
    def overhead(self) -> int:
        return self.workspace + self.reserve

    def describe(self) -> str:
        return (f"{size_text(self.total)} ({size_text(self.weights)} of weights, {size_text(self.kv_cache)} of "
                f"conversation memory for {self.context_length:,} tokens, "
                f"{size_text(self.overhead)} of working memory)")


def element_size(dtype) -> int:
    """Bytes per element of a torch dtype, or of a dtype named as torch names it ("bfloat16")."""
    if isinstance(dtype, str):
        return _ELEMENT_SIZE[dtype.removeprefix("torch.")]
    return dtype.itemsize


def weights_bytes(config: ModelConfig, dtype="bfloat16") -> int:
    c = config
    size = element_size(dtype)
    D, E, I = c.hidden_size, c.num_local_experts, c.intermediate_size
    attention = (D * c.q_size + c.q_size) + 2 * (D * c.kv_size + c.kv_size) + (c.q_size * D + D)
    dense_per_layer = attention + c.num_attention_heads + 2 * D + (E * D + E) + E * (2 * I + D)
    experts_per_layer = E * (2 * I * D + D * I) // 32 * MXFP4_BLOCK_BYTES
    dense = c.num_hidden_layers * dense_per_layer + 2 * c.vocab_size * D + D
    return dense * size + c.num_hidden_layers * experts_per_layer


def kv_cache_bytes(config: ModelConfig, context_length: int, dtype="bfloat16") -> int:
    """Every layer's k, v and positions at `context_length`, as core.engine.kv_cache allocates them
    (the static layout up front; the growing one once the conversation is that long)."""
    c = config
    slot = 2 * c.kv_size * element_size(dtype) + POSITION_BYTES
    slots = sum(min(c.sliding_window, context_length) if c.is_sliding(i) else context_length
                for i in range(c.num_hidden_layers))
    return slots * slot


def kv_growth_bytes(config: ModelConfig, context_length: int, dtype="bfloat16") -> int:
    """What a growing cache (core.engine.kv_cache's CPU layout) holds for a moment beyond its size:
    a full layer doubles one tensor at a time, so at the last step its old v and old positions
    (the largest power-of-two capacity below the context) are alive beside the new ones."""
    c = config
    if context_length <= KV_FIRST_CAPACITY or all(c.is_sliding(i) for i in range(c.num_hidden_layers)):
        return 0
    old = KV_FIRST_CAPACITY
    while 2 * old < context_length:
        old *= 2
    return old * (c.kv_size * element_size(dtype) + POSITION_BYTES)


def workspace_bytes(config: ModelConfig, context_length: int, dtype="bfloat16",
                    backend: str = "triton", tokens: int = PREFILL_CHUNK) -> int:
    """Peak scratch of one layer of one prefill chunk (activations are freed layer by layer)."""
    c = config
    size = element_size(dtype)
    T, D, K = tokens, c.hidden_size, c.num_experts_per_tok
    # residual, norm, attention and MoE outputs; q/k/v with float32 rope temporaries
    activations = T * (4 * D * size + (c.q_size + 2 * c.kv_size) * (size + 3 * 4) + c.q_size * size)
    ring = (c.sliding_window + T) * (2 * c.kv_size * size + POSITION_BYTES)  # sliding layer: ring + chunk
    logits = c.vocab_size * (size + 4)                                       # one row, then float32
    if backend == "triton":
        padded_pairs = T * K + min(c.num_local_experts, T * K) * 63           # groups padded to 64 rows
        moe = padded_pairs * c.intermediate_size * size + T * D * 4 + padded_pairs * 8 * 4
        splits = 32                                                           # decode: split keys' partials
        attention = splits * c.num_attention_heads * (c.head_dim + 2) * 4
    else:
        largest = max(2 * c.intermediate_size * D, D * c.intermediate_size)
        moe = largest * (size + 2) + T * D * 4 + T * 2 * c.intermediate_size * size * 2
        attention = 3 * 4 * min(MAX_SCORES, c.num_attention_heads * T * (context_length + T))
    return activations + ring + logits + moe + attention


def plan_memory(config: ModelConfig, context_length: int, dtype="bfloat16", backend: str = "triton",
                static_cache: bool = True, reserve: int = RESERVE) -> MemoryPlan:
    """The plan for one device: `static_cache` as core.engine.kv_cache lays the cache out there (CUDA:
    static; the CPU grows it, which costs `kv_growth_bytes` of scratch), `reserve` what the
    device needs beyond the model's own tensors."""
    workspace = workspace_bytes(config, context_length, dtype, backend)
    if not static_cache:
        workspace += kv_growth_bytes(config, context_length, dtype)
    return MemoryPlan(context_length, weights_bytes(config, dtype), kv_cache_bytes(config, context_length, dtype),
                      workspace, reserve)


def largest_context(config: ModelConfig, available: int, dtype="bfloat16", backend: str = "triton") -> int:
    """The longest context (a multiple of 1024, at most the model's) whose plan fits `available`; 0 if none."""
    low, high = 0, config.context_length // 1024
    while low < high:
        mid = (low + high + 1) // 2
        if plan_memory(config, mid * 1024, dtype, backend).total <= available:
            low = mid
        else:
            high = mid - 1
    return min(low * 1024, config.context_length)


def fit_context(config: ModelConfig, available: int, dtype="bfloat16", backend: str = "triton",
                context_length: int | None = None, where: str = "the graphics card") -> int:
    """The context the engine grants on a device with `available` free bytes: `context_length`
    (default: the model's whole context, or the most that fits), or NotEnoughMemory saying why."""
    if context_length is not None:
        wanted = min(context_length, config.context_length)
        plan = plan_memory(config, wanted, dtype, backend)
        if plan.total > available:
            fits = largest_context(config, available, dtype, backend)
            hint = (f" A context of {fits:,} tokens would fit." if fits >= MIN_CONTEXT else
                    " Choose a smaller model, or run it on the processor.")
            raise NotEnoughMemory(f"This model needs {plan.describe()} but {where} has only "
                                  f"{size_text(available)} free.{hint}")
        return wanted
    fits = largest_context(config, available, dtype, backend)
    if fits < MIN_CONTEXT:
        plan = plan_memory(config, MIN_CONTEXT, dtype, backend)
        raise NotEnoughMemory(f"This model needs at least {plan.describe()} but {where} has only "
                              f"{size_text(available)} free. Close other programs that use the graphics card, choose a "
                              "smaller model, or run it on the processor.")
    return fits


def device_context(config: ModelConfig, device, dtype, backend: str, context_length: int | None = None) -> int:
    """The context `load_model` grants on `device`: on a GPU, planned against its free
    memory before anything is allocated; elsewhere `context_length` capped at the model's."""
    import torch  # here only: the planners above must stay importable without torch

    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        name = torch.cuda.get_device_name(device)
        return fit_context(config, free, dtype, backend, context_length, where=f"the {name}")
    return min(context_length or config.context_length, config.context_length)
