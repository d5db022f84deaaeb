"""Benchmark of the Triton kernels: bytes moved, achieved bandwidth against the GPU's
peak, and whole-model decode tokens/s.

On a CUDA GPU (compute capability 8.0+), for the gpt-oss shapes in bf16:
  - per kernel (MoE decode step, MoE prefill chunk, attention decode on a sliding and a
    full layer, attention prefill): median time over CUDA-event-timed runs, the bytes it
    must move at least, GB/s and % of the device's peak (targets: MoE decode >= 70%);
  - whole-model decode tokens/s on a random checkpoint with the real 20b layer shapes and
    `--layers` layers (default 2, written once like bench_core.py), projected to 24 layers
    (target on an H100: >= 400 tokens/s).
Without a GPU it says so, checks the kernels against their torch references under the
Triton interpreter, and prints the bytes a decode token must read.

    python bench/bench_kernels.py [--model 20b|120b] [--context 4096] [--layers 2] [--dir bench/out/20b-2layers]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

HAVE_GPU = torch.cuda.is_available()
if not HAVE_GPU:
    # Must precede the first import of a kernel module: Triton reads it at decoration time.
    os.environ["TRITON_INTERPRET"] = "1"

from core.engine.config import GPT_OSS_20B, GPT_OSS_120B, ModelConfig  # noqa: E402
from kernels.attention import attention, attention_torch  # noqa: E402
from kernels.moe import moe, moe_torch  # noqa: E402
from kernels.target import kernel_device, peak_bandwidth  # noqa: E402
from kernels.testing import errors, random_experts  # noqa: E402

CONFIGS = {"20b": GPT_OSS_20B, "120b": GPT_OSS_120B}
BF16 = 2
GB = 1e9


def expert_bytes(c: ModelConfig) -> int:
    """One expert's packed gate_up + down (17 bytes per 32 weights) and biases."""
    D, I = c.hidden_size, c.intermediate_size
    return (2 * I * D + D * I) // 32 * 17 + (2 * I + D) * BF16


def moe_bytes(c: ModelConfig, tokens: int) -> int:
    """Least bytes one MoE call reads and writes: router, the routed experts once each, x and out."""
    routed = min(c.num_local_experts, tokens * c.num_experts_per_tok)
    router = c.num_local_experts * (c.hidden_size + 1) * BF16
    return router + routed * expert_bytes(c) + 2 * tokens * c.hidden_size * BF16


def attention_bytes(c: ModelConfig, tokens: int, keys: int) -> int:
    kv = keys * 2 * c.kv_size * BF16 + keys * 8                 # k, v and positions
    return kv + 2 * tokens * c.q_size * BF16


def decode_token_bytes(c: ModelConfig, context: int) -> dict[str, int]:
    """Bytes one decode step must read, by part of the model."""
    sliding = sum(c.is_sliding(i) for i in range(c.num_hidden_layers))
    full = c.num_hidden_layers - sliding
    projections = (c.hidden_size * (c.q_size + 2 * c.kv_size) + c.q_size * c.hidden_size) * BF16
    return {
        "MoE (router + 4 experts)": c.num_hidden_layers * moe_bytes(c, 1),
        "attention projections": c.num_hidden_layers * projections,
        "KV cache": sliding * attention_bytes(c, 1, min(c.sliding_window, context))
        + full * attention_bytes(c, 1, context),
        "lm_head": c.vocab_size * c.hidden_size * BF16,
    }


def cuda_time(fn, repeats: int = 20) -> float:
    """Median seconds of `fn()` by CUDA events, after a warm-up (compilation) run."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def moe_inputs(c: ModelConfig, tokens: int, device, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    D = c.hidden_size
    experts = random_experts(c.num_local_experts, D, c.intermediate_size, g, dtype)
    experts = type(experts)(*(t.to(device) for t in vars(experts).values()))
    x = torch.randn(tokens, D, generator=g).to(device, dtype)
    router_weight = (torch.randn(c.num_local_experts, D, generator=g) / D ** 0.5).to(device, dtype)
    router_bias = torch.zeros(c.num_local_experts).to(device, dtype)
    return x, router_weight, router_bias, experts


def attention_inputs(c: ModelConfig, tokens: int, keys: int, device, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(tokens, c.num_attention_heads, c.head_dim, generator=g).to(device, dtype)
    k = torch.randn(keys, c.num_key_value_heads, c.head_dim, generator=g).to(device, dtype)
    v = torch.randn(keys, c.num_key_value_heads, c.head_dim, generator=g).to(device, dtype)
    sinks = torch.randn(c.num_attention_heads, generator=g).to(device, dtype)
    k_pos = torch.arange(keys, device=device)
    return q, k, v, sinks, k_pos[-tokens:], k_pos


def gpu_kernels(c: ModelConfig, context: int) -> None:
    device = torch.device("cuda")
    peak = peak_bandwidth(device)
    print(f"GPU: {torch.cuda.get_device_name(device)}, peak memory bandwidth "
          f"{peak / GB:.0f} GB/s" if peak else "peak bandwidth unknown (no NVML)")
    scale = c.head_dim ** -0.5
    cases = []
    for tokens in (1, 512):
        args = moe_inputs(c, tokens, device, torch.bfloat16)
        cases.append((f"moe T={tokens}", lambda a=args: moe(*a, c.num_experts_per_tok, c.swiglu_limit),
                      moe_bytes(c, tokens)))
    for name, tokens, keys, window in (("attention decode sliding", 1, c.sliding_window, c.sliding_window),
                                       (f"attention decode full ctx={context}", 1, context, None),
                                       ("attention prefill T=512 full", 512, 512, None)):
        args = attention_inputs(c, tokens, keys, device, torch.bfloat16)
        cases.append((name, lambda a=args, w=window: attention(*a, w, scale), attention_bytes(c, tokens, keys)))
    for name, fn, nbytes in cases:
        seconds = cuda_time(fn)
        rate = nbytes / seconds
        share = f", {100 * rate / peak:.0f}% of peak" if peak else ""
        if name == "moe T=1":
            share += " (target >= 70%)"
        print(f"  {name:38s} {seconds * 1e6:9.1f} us  {nbytes / 1e6:9.1f} MB  {rate / GB:7.0f} GB/s{share}")


def gpu_model(layers: int, folder: Path, steps: int = 64) -> None:
    from core import load_model
    from core.engine.testing import write_checkpoint

    config = GPT_OSS_20B.replace(num_hidden_layers=layers)
    if not (folder / "model.safetensors.index.json").exists():
        print(f"writing a {layers}-layer checkpoint with the 20b shapes to {folder} ...", flush=True)
        write_checkpoint(folder, config, seed=0)
    model = load_model(folder, "cuda", backend="triton")
    session = model.new_session(4096)
    session.feed(list(range(100, 612)))                       # a 512-token prompt
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        session.feed([1000 + step])
    seconds = (time.perf_counter() - start) / steps
    # Per-layer time from the measured step, less the unembedding (one lm_head read).
    lm_head = cuda_time(lambda: model.transformer.unembed(torch.zeros(1, config.hidden_size, device="cuda",
                                                                           dtype=torch.bfloat16)))
    per_layer = (seconds - lm_head) / layers
    projected = per_layer * GPT_OSS_20B.num_hidden_layers + lm_head
    print(f"  whole-model decode, {layers} layers: {1 / seconds:.0f} tokens/s; projected to 24 layers: "
          f"{1 / projected:.0f} tokens/s (target on an H100: >= 400)")


def interpreter_checks() -> None:
    """Small shapes through the interpreter (float32): the kernels' answers, not their speed."""
    c = GPT_OSS_20B
    x, w, b, experts = moe_inputs(c, 1, "cpu", torch.float32)
    max_rel, rms_rel = errors(moe(x, w, b, experts, 4, 7.0), moe_torch(x, w, b, experts, 4, 7.0))
    print(f"  moe decode step, 4 of 32 experts of 2880x2880: relative max error {max_rel:.1e}, RMS {rms_rel:.1e}")
    q, k, v, sinks, q_pos, k_pos = attention_inputs(c, 1, 1000, "cpu", torch.float32)
    for window in (c.sliding_window, None):
        args = (q, k, v, sinks, q_pos, k_pos, window, c.head_dim ** -0.5)
        max_rel, rms_rel = errors(attention(*args), attention_torch(*args))
        print(f"  attention decode over 1000 keys, window {window}: relative max error {max_rel:.1e}, "
              f"RMS {rms_rel:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), default="20b")
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench/out/20b-2layers")
    args = parser.parse_args()
    c = CONFIGS[args.model]
    parts = decode_token_bytes(c, args.context)
    print(f"gpt-oss-{args.model}, one decode token at context {args.context}: {sum(parts.values()) / GB:.2f} GB read")
    for name, nbytes in parts.items():
        print(f"  {name:28s} {nbytes / GB:6.3f} GB")
    if HAVE_GPU and kernel_device(torch.device("cuda")):
        peak = peak_bandwidth(torch.device("cuda"))
        if peak:
            print(f"  bandwidth bound: {peak / sum(parts.values()):.0f} tokens/s at 100% of peak")
        gpu_kernels(c, args.context)
        gpu_model(args.layers, args.dir)
        return
    print("No CUDA GPU of compute capability 8.0+ is present: no timings. Checking the kernels under the "
          "Triton interpreter (float32) instead:")
    start = time.perf_counter()
    interpreter_checks()
    print(f"  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
