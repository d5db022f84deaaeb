"""Compiles every kernel, at the arguments the engine passes, to a cubin per CUDA target,
on a machine with no GPU: `python -m kernels.compile_check [--capabilities 80,90] [--model 20b|120b]`.

The public ops run on meta tensors (engine shapes and dtypes, no data) with a `Recorder`
as their launcher, so what gets compiled is exactly what a GPU run would launch, with the
same specialisations. Needs real Triton kernels: TRITON_INTERPRET must be unset.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import time

import torch

from kernels import _attention_triton, _moe_triton, _mxfp4_triton
from kernels.moe import SWIGLU_ALPHA, ExpertWeights
from kernels.target import CUDA_TARGETS, Recorder, compile_for

# gpt-oss shapes (the engine's ModelConfig lives in core/, which kernels/ does not import).
SHAPES = {
    "20b": dict(hidden=2880, intermediate=2880, experts=32, top_k=4, heads=64, kv_heads=8, head_dim=64, window=128),
    "120b": dict(hidden=2880, intermediate=2880, experts=128, top_k=4, heads=64, kv_heads=8, head_dim=64, window=128),
}
PREFILL = 256        # the engine's PREFILL_CHUNK (core/engine/constants.py)
LONG_CACHE = 32768   # a full-attention layer deep into a conversation: split decode


def engine_launches(shape: dict, dtype: torch.dtype = torch.bfloat16) -> list[tuple[str, object]]:
    """(label, Launch) for every kernel launch of a decode step and a prefill chunk."""
    meta = torch.device("meta")
    D, I, E, K = shape["hidden"], shape["intermediate"], shape["experts"], shape["top_k"]
    Hq, Hkv, hd, window = shape["heads"], shape["kv_heads"], shape["head_dim"], shape["window"]

    def t(*size, dt=dtype):
        return torch.empty(*size, dtype=dt, device=meta)

    experts = ExpertWeights(t(E, 2 * I, D // 32, 16, dt=torch.uint8), t(E, 2 * I, D // 32, dt=torch.uint8),
                            t(E, 2 * I), t(E, D, I // 32, 16, dt=torch.uint8), t(E, D, I // 32, dt=torch.uint8),
                            t(E, D))
    labelled = []

    def record(label, fn, *args):
        recorder = Recorder()
        fn(*args, launch=recorder)
        labelled.extend((f"{label}/{launch.kernel.fn.__name__}", launch) for launch in recorder.launches)

    for name, T in (("decode", 1), ("prefill", PREFILL)):
        record(f"moe {name}", _moe_triton.moe, t(T, D), t(E, D), t(E), experts, K, 7.0, SWIGLU_ALPHA)
    positions = lambda n: t(n, dt=torch.int64)  # noqa: E731
    for name, T, S, sliding in (("decode sliding", 1, window, True), ("decode full", 1, LONG_CACHE, False),
                                ("prefill sliding", PREFILL, window + PREFILL, True),
                                ("prefill full", PREFILL, PREFILL, False)):
        record(f"attention {name}", _attention_triton.attention, t(T, Hq, hd), t(S, Hkv, hd), t(S, Hkv, hd), t(Hq),
               positions(T), positions(S), window if sliding else None, hd ** -0.5)
    record("dequantize", _mxfp4_triton.dequantize, t(2 * I, D // 32, 16, dt=torch.uint8),
           t(2 * I, D // 32, dt=torch.uint8), dtype)
    return labelled


def dot_types(ttir: str) -> str:
    """The operand and accumulator types of every tl.dot, e.g. "bf16*bf16->f32": a bf16
    model must multiply in bf16 and accumulate in float32."""
    found = re.findall(r"tt\.dot .*: tensor<[^>]*x(\w+)> \* tensor<[^>]*x(\w+)> -> tensor<[^>]*x(\w+)>", ttir)
    return ",".join(sorted({f"{a}*{b}->{c}" for a, b, c in found})) or "none"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capabilities", default=",".join(map(str, CUDA_TARGETS)))
    parser.add_argument("--model", choices=sorted(SHAPES), default="20b")
    args = parser.parse_args(argv)
    capabilities = [int(c) for c in args.capabilities.split(",")]
    os.environ["TRITON_DUMP_PTXAS_LOG"] = "1"  # ptxas -v: registers and spills of each kernel
    launches = engine_launches(SHAPES[args.model])
    failures = 0
    for capability in capabilities:
        for label, launch in launches:
            start = time.perf_counter()
            try:
                ptxas_log = io.StringIO()
                with contextlib.redirect_stdout(ptxas_log):
                    compiled = compile_for(launch, capability)
                spilled = sum(int(n) for n in re.findall(r"(\d+) bytes spill stores", ptxas_log.getvalue()))
                registers = re.findall(r"Used (\d+) registers", ptxas_log.getvalue())
                cubin = compiled.asm["cubin"]
                print(f"sm_{capability} {label}: cubin {len(cubin)} bytes, {compiled.metadata.num_warps} warps, "
                      f"{registers[0] if registers else '?'} registers, {spilled} B spilled, "
                      f"{compiled.metadata.shared} B shared, dots {dot_types(compiled.asm['ttir'])}, "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
            except Exception as error:  # report every target/kernel, then fail
                failures += 1
                print(f"sm_{capability} {label}: FAILED {type(error).__name__}: {error}", flush=True)
    print(f"{len(launches) * len(capabilities) - failures} compiled, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
