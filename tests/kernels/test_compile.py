"""Every kernel, at the arguments the engine passes (bf16 activations, gpt-oss shapes),
compiles to a cubin for every CUDA target, here on a machine with no GPU; and the host
side of a decode step is fit for CUDA-graph capture.

The compile runs in a subprocess: this folder's tests interpret the kernels, and
TRITON_INTERPRET is fixed when a kernel module is imported. Triton 3.7.1 ships its own
ptxas (CUDA 12.8, and 13.1 for Blackwell), so nothing is skipped for want of a toolkit;
a fresh cache directory makes each run really compile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kernels.compile_check import SHAPES, engine_launches
from kernels.target import CUDA_TARGETS

ROOT = Path(__file__).resolve().parents[2]


def compile_check(model: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")
    result = subprocess.run([sys.executable, "-m", "kernels.compile_check", "--model", model], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def check_every_kernel_on_every_target(output: str, model: str) -> None:
    kernels = {label for label, _ in engine_launches(SHAPES[model])}
    assert len(kernels) == 12  # moe decode/prefill (router, gate_up, down), 4 attention cases (+combine), dequantize
    for capability in CUDA_TARGETS:
        for label in kernels:
            line = re.search(rf"^sm_{capability} {re.escape(label)}: cubin (\d+) bytes.* (\d+) B spilled", output,
                             re.M)
            assert line and int(line.group(1)) > 0, f"no cubin for {label} on sm_{capability}"
            # The pinned tiles fit the registers (ptxas -v); ptxas spills a few bytes on some
            # targets, a config that no longer fits spills hundreds.
            assert int(line.group(2)) <= 16, f"{label} spills {line.group(2)} B on sm_{capability}"
            # bf16 activations: tensor-core products of bf16, float32 accumulators (the
            # combine and dequantize kernels have no dot).
            dots = re.search(rf"^sm_{capability} {re.escape(label)}: .* dots ([^ ]+),", output, re.M).group(1)
            assert dots in ("bf16*bf16->f32", "none"), f"{label}: dots {dots}"


def test_20b_kernels_compile_for_every_target(tmp_path):
    # ~20 s: 12 kernel variants x 6 targets.
    check_every_kernel_on_every_target(compile_check("20b", tmp_path), "20b")


@pytest.mark.slow
def test_120b_kernels_compile_for_every_target(tmp_path):
    # 128 experts change the router's tile and the expert grouping.
    check_every_kernel_on_every_target(compile_check("120b", tmp_path), "120b")


def test_decode_step_host_code_is_graph_capturable():
    # A CUDA graph replays kernels with fixed grids and arguments, and capture fails on any
    # host sync. The ops' host code runs here on meta tensors, which hold no data: any
    # .item(), .tolist(), nonzero() or data-dependent shape would raise. Two recordings
    # at the same shapes launch the same kernels on the same grids.
    first, second = engine_launches(SHAPES["20b"]), engine_launches(SHAPES["20b"])
    decode = [(label, launch) for label, launch in first if "decode" in label]
    assert decode
    for (label, a), (_, b) in zip(first, second, strict=True):
        assert a.kernel is b.kernel and a.grid == b.grid, label
        scalars = [x for x in a.args if not isinstance(x, torch.Tensor)]
        assert scalars == [x for x in b.args if not isinstance(x, torch.Tensor)], label


SPECIALIZATION_PROBE = """
import torch
from triton.compiler import make_backend
from triton.backends.compiler import GPUTarget
from triton.runtime.jit import create_function_from_signature
from kernels import _attention_triton, _moe_triton
from kernels.target import Recorder

meta = torch.device("meta")
def t(*size, dt=torch.bfloat16):
    return torch.empty(*size, dtype=dt, device=meta)

backend = make_backend(GPUTarget("cuda", 90, 32))
def keys(record):
    out = set()
    for launch in record.launches:
        kernel = launch.kernel
        binder = create_function_from_signature(kernel.signature, kernel.params, backend)
        out.add((kernel.fn.__name__, str(binder(*launch.args, **launch.constexprs)[1])))
    return out

seen = []
for T, S in ((1, 128), (1, 129), (1, 4096), (1, 4103)):  # decode: ring, odd and long caches
    r = Recorder()
    _attention_triton.attention(t(T, 64, 64), t(S, 8, 64), t(S, 8, 64), t(64), t(T, dt=torch.int64),
                                t(S, dt=torch.int64), None, 0.125, launch=r)
    seen.append(keys(r))
for T in (37, 48):  # a ragged and an even prefill chunk
    r = Recorder()
    _moe_triton.route(t(T, 2880), t(32, 2880), t(32), 4, launch=r)
    seen.append(keys(r))
print(len(seen[0] | seen[1]), len(seen[2] | seen[3]), len(seen[4] | seen[5]))
"""


def test_lengths_do_not_multiply_the_compiled_variants(tmp_path):
    # The installer ships kernels compiled for the launches of kernels.compile_check; a length
    # Triton specialised on (== 1, multiple of 16) would make unseen prompts compile anew.
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")
    result = subprocess.run([sys.executable, "-c", SPECIALIZATION_PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    # One kernel per case: the ring and the odd cache share one specialisation, and so do
    # the two long caches (attention + combine), and the two router token counts.
    assert result.stdout.split() == ["1", "2", "1"]
