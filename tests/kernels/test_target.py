"""kernels.target: which device gets which backend, and launches recorded instead of run."""

from __future__ import annotations

import pytest
import torch

from kernels import _mxfp4_triton
from kernels.target import CUDA_TARGETS, Recorder, compile_for, default_backend, kernel_device


def test_cpu_runs_torch_by_default_and_kernels_only_interpreted():
    assert default_backend("cpu") == "torch"
    assert kernel_device("cpu")            # this folder runs under TRITON_INTERPRET=1


def test_targets_cover_ampere_to_blackwell():
    assert {80, 86, 89, 90, 100, 120} <= set(CUDA_TARGETS)


def test_recorder_keeps_launches_without_running_them():
    recorder = Recorder()
    blocks = torch.empty(4, 2, 16, dtype=torch.uint8, device="meta")
    scales = torch.empty(4, 2, dtype=torch.uint8, device="meta")
    out = _mxfp4_triton.dequantize(blocks, scales, torch.bfloat16, launch=recorder)
    assert out.shape == (4, 64) and out.dtype == torch.bfloat16
    [launch] = recorder.launches
    assert launch.grid == (1,) and launch.constexprs == {"BLOCK": 1024}


def test_compile_needs_real_kernels():
    recorder = Recorder()
    blocks = torch.empty(1, 1, 16, dtype=torch.uint8, device="meta")
    _mxfp4_triton.dequantize(blocks, torch.empty(1, 1, dtype=torch.uint8, device="meta"), torch.float32,
                             launch=recorder)
    with pytest.raises(RuntimeError, match="unset TRITON_INTERPRET"):
        compile_for(recorder.launches[0], 90)
