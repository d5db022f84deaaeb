"""GPU memory plan: what a model needs on the device for a given context length, and the
context the engine grants when the card is smaller than the model's full context.

need = weights (experts packed MXFP4, the rest in the compute dtype)
     + KV cache (sliding layers hold `sliding_window` positions, full layers the context,
       plus the old buffer alive while the last full layer grows)
     + workspace (one prefill chunk's activations, the MoE and attention scratch of the
       chosen backend, one row of logits)
     + a reserve for the allocator's rounding and cuBLAS.
Byte counts follow core/kv_cache.py and core/engine.py as written; a change there
(prefill chunk, cache growth) belongs here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.config import ModelConfig
from core.errors import NotEnoughMemory

GIB = 2**30
RESERVE = 512 * 2**20     # allocator rounding and fragmentation, cuBLAS workspace
MIN_CONTEXT = 4096        # below this a chat is not worth starting: refuse instead
PREFILL_CHUNK = 512       # core.engine.PREFILL_CHUNK
POSITION_BYTES = 8        # int64 position per cache slot
MXFP4_BLOCK_BYTES = 17    # 16 bytes of codes + 1 scale per 32 weights
TORCH_SCORES = 1 << 26    # kernels.attention._MAX_SCORES: float32 scores per chunk


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

    def describe(self) -> str:
        return (f"{_gib(self.total)} ({_gib(self.weights)} of weights, {_gib(self.kv_cache)} of conversation memory "
                f"for {self.context_length:,} tokens, {_gib(self.workspace + self.reserve)} of working memory)")


def weights_bytes(config: ModelConfig, dtype: torch.dtype = torch.bfloat16) -> int:
    c = config
    size = torch.empty((), dtype=dtype).element_size()
    D, E, I = c.hidden_size, c.num_local_experts, c.intermediate_size
    attention = (D * c.q_size + c.q_size) + 2 * (D * c.kv_size + c.kv_size) + (c.q_size * D + D)
    dense_per_layer = attention + c.num_attention_heads + 2 * D + (E * D + E) + E * (2 * I + D)
    experts_per_layer = E * (2 * I * D + D * I) // 32 * MXFP4_BLOCK_BYTES
    dense = c.num_hidden_layers * dense_per_layer + 2 * c.vocab_size * D + D
    return dense * size + c.num_hidden_layers * experts_per_layer


def kv_cache_bytes(config: ModelConfig, context_length: int, dtype: torch.dtype = torch.bfloat16) -> int:
    """Every layer's k, v and positions at `context_length`, as core.kv_cache allocates them."""
    c = config
    slot = 2 * c.num_key_value_heads * c.head_dim * torch.empty((), dtype=dtype).element_size() + POSITION_BYTES
    slots = sum(min(c.sliding_window, context_length) if c.is_sliding(i) else context_length
                for i in range(c.num_hidden_layers))
    # A full layer grows by doubling: while it copies, its previous buffer (<= half) is alive too.
    growing = context_length // 2 if any(not c.is_sliding(i) for i in range(c.num_hidden_layers)) else 0
    return (slots + growing) * slot


def workspace_bytes(config: ModelConfig, context_length: int, dtype: torch.dtype = torch.bfloat16,
                    backend: str = "triton", tokens: int = PREFILL_CHUNK) -> int:
    """Peak scratch of one layer of one prefill chunk (activations are freed layer by layer)."""
    c = config
    size = torch.empty((), dtype=dtype).element_size()
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
        attention = 3 * 4 * min(TORCH_SCORES, c.num_attention_heads * T * (context_length + T))
    return activations + ring + logits + moe + attention


def plan_memory(config: ModelConfig, context_length: int, dtype: torch.dtype = torch.bfloat16,
                backend: str = "triton") -> MemoryPlan:
    return MemoryPlan(context_length, weights_bytes(config, dtype), kv_cache_bytes(config, context_length, dtype),
                      workspace_bytes(config, context_length, dtype, backend))


def largest_context(config: ModelConfig, available: int, dtype: torch.dtype = torch.bfloat16,
                    backend: str = "triton") -> int:
    """The longest context (a multiple of 1024, at most the model's) whose plan fits `available`; 0 if none."""
    low, high = 0, config.context_length // 1024
    while low < high:
        mid = (low + high + 1) // 2
        if plan_memory(config, mid * 1024, dtype, backend).total <= available:
            low = mid
        else:
            high = mid - 1
    return min(low * 1024, config.context_length)


def fit_context(config: ModelConfig, available: int, dtype: torch.dtype = torch.bfloat16, backend: str = "triton",
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
                                  f"{_gib(available)} free.{hint}")
        return wanted
    fits = largest_context(config, available, dtype, backend)
    if fits < MIN_CONTEXT:
        plan = plan_memory(config, MIN_CONTEXT, dtype, backend)
        raise NotEnoughMemory(f"This model needs at least {plan.describe()} but {where} has only "
                              f"{_gib(available)} free. Close other programs that use the graphics card, choose a "
                              "smaller model, or run it on the processor.")
    return fits


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def device_context(config: ModelConfig, device: torch.device, dtype: torch.dtype, backend: str,
                   context_length: int | None = None) -> int:
    """The context `load_model` grants on `device`: on a GPU, planned against its free
    memory before anything is allocated; elsewhere `context_length` capped at the model's."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        name = torch.cuda.get_device_name(device)
        return fit_context(config, free, dtype, backend, context_length, where=f"the {name}")
    return min(context_length or config.context_length, config.context_length)
