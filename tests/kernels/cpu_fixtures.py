"""Shared pieces of the compiled-CPU-kernel tests: the builds, and random MoE layers."""

from __future__ import annotations

import torch

from core.engine.testing import random_mxfp4
from kernels import _cpu, cpu_build
from kernels.moe import ExpertWeights

X86_PATHS = ("scalar", "avx2", "avx512", "avx512-vnni")


def ensure_built() -> None:
    """The libraries scripts/test builds; built here too when pytest runs on its own."""
    wanted = cpu_build.VARIANTS.get(cpu_build.host_arch(), {})
    if any(not (cpu_build.OUT / cpu_build.library_name(isa)).exists() for isa in wanted):
        cpu_build.build()
        _cpu.load.cache_clear()


def kernels_or_skip(isa: str):
    import pytest

    ensure_built()
    if cpu_build.host_arch() != "x86_64":
        pytest.skip("x86 paths run on x86-64 processors")
    try:
        return _cpu.load(isa)
    except _cpu.KernelsUnavailable as error:
        if "cannot run" in str(error):
            pytest.skip(f"{error} (it is built and compiled here; it runs where the processor has it)")
        raise


def random_experts(E: int, D: int, I: int, seed: int = 0) -> ExpertWeights:
    g = torch.Generator().manual_seed(seed)
    gate_up_blocks, gate_up_scales = random_mxfp4((E, 2 * I, D), g)
    down_blocks, down_scales = random_mxfp4((E, D, I), g)
    return ExpertWeights(gate_up_blocks, gate_up_scales, (torch.randn(E, 2 * I, generator=g) * 0.1).bfloat16(),
                         down_blocks, down_scales, (torch.randn(E, D, generator=g) * 0.1).bfloat16())


def float32_experts(experts: ExpertWeights) -> ExpertWeights:
    return ExpertWeights(experts.gate_up_blocks, experts.gate_up_scales, experts.gate_up_bias.float(),
                         experts.down_blocks, experts.down_scales, experts.down_bias.float())


def relative_errors(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float]:
    """(max |error| / max |expected|, rms error / rms expected)."""
    diff = (actual.float() - expected.float())
    return (diff.abs().max() / expected.abs().max()).item(), (diff.norm() / expected.norm()).item()
