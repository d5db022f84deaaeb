"""Building the compiled CPU kernels, the ARM (NEON) path under qemu, and the fallback to torch.

The NEON build is cross-compiled with Debian's gcc-aarch64-linux-gnu into a static test
harness (tests/kernels/cpu_harness.c) and run under qemu-aarch64; its answers are compared
with the torch twins at the x86 paths' tolerances (test_moe_cpu.py, test_linear_cpu.py).
scripts/test installs both tools where they are missing on Debian.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from kernels import cpu_build
from kernels.attention import attention_torch
from kernels.moe import route_torch
from tests.kernels.cpu_fixtures import random_experts, relative_errors
from tests.kernels.test_moe_cpu import reference

HARNESS = Path(__file__).with_name("cpu_harness.c")
CROSS_CC, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64"


def test_every_x86_variant_builds(tmp_path):
    if cpu_build.host_arch() != "x86_64":
        pytest.skip("the x86 variants build on x86-64")
    built = cpu_build.build(out=tmp_path)
    assert set(built) == {"scalar", "avx2", "avx512", "avx512-vnni"}
    assert all(path.stat().st_size > 10_000 for path in built.values())
    assert not list(tmp_path.glob("tmp*"))  # compiled beside the target, then renamed: nothing half-written left


@pytest.fixture(scope="module")
def neon_harness(tmp_path_factory):
    if not (shutil.which(CROSS_CC) and shutil.which(QEMU)):
        pytest.skip(f"{CROSS_CC} and {QEMU} are needed (Debian: gcc-aarch64-linux-gnu qemu-user)")
    out = tmp_path_factory.mktemp("neon")
    built = {}
    for isa, flags in cpu_build.VARIANTS["aarch64"].items():
        exe = out / f"harness-{isa}"
        sources = sorted(str(p) for p in cpu_build.SOURCES.glob("*.c"))
        subprocess.run([CROSS_CC, "-O2", "-std=c11", "-pthread", "-D_GNU_SOURCE", "-static", *flags, *sources,
                        str(HARNESS), "-o", str(exe), "-lm"], check=True, capture_output=True, text=True)
        built[isa] = exe
    return built


def run_harness(exe: Path, op: str, folder: Path, arrays: dict[str, np.ndarray], *shape) -> np.ndarray:
    for name, array in arrays.items():
        (folder / name).write_bytes(np.ascontiguousarray(array).tobytes())
    result = subprocess.run([QEMU, str(exe), op, str(folder), *map(str, shape)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return np.frombuffer((folder / "out.f32").read_bytes(), dtype=np.float32), result.stdout.strip()


def _bf16(t: torch.Tensor) -> np.ndarray:
    return t.bfloat16().view(torch.int16).numpy()


@pytest.mark.parametrize("isa", ["neon", "scalar"])
def test_arm_moe_matches_the_float32_reference(neon_harness, isa, tmp_path):
    T, E, D, I = 7, 32, 2880, 128
    experts = random_experts(E, D, I, seed=9)
    g = torch.Generator().manual_seed(10)
    router_weight = (torch.randn(E, D, generator=g) / D**0.5).bfloat16()
    x = torch.randn(T, D, generator=g).bfloat16()
    weights, chosen = route_torch(x.float(), router_weight.float(), torch.zeros(E), 4)
    arrays = {"x.f32": x.float().numpy(), "chosen.i32": chosen.int().numpy(), "weights.f32": weights.numpy(),
              "gub.u8": experts.gate_up_blocks.numpy(), "gus.u8": experts.gate_up_scales.numpy(),
              "gubias.f32": experts.gate_up_bias.float().numpy(), "dnb.u8": experts.down_blocks.numpy(),
              "dns.u8": experts.down_scales.numpy(), "dnbias.f32": experts.down_bias.float().numpy()}
    out, built_for = run_harness(neon_harness[isa], "moe", tmp_path, arrays, T, D, I, E, 4)
    assert built_for == isa
    max_err, rms_err = relative_errors(torch.from_numpy(out.copy()).view(T, D), reference(x, router_weight, experts))
    assert max_err <= 2e-4 and rms_err <= 1e-4, (max_err, rms_err)


def test_arm_linear_and_attention_match_torch(neon_harness, tmp_path):
    g = torch.Generator().manual_seed(11)
    x, weight = torch.randn(3, 2880, generator=g), torch.randn(301, 2880, generator=g).bfloat16()
    bias = torch.randn(301, generator=g)
    out, _ = run_harness(neon_harness["neon"], "linear", tmp_path,
                         {"x.f32": x.numpy(), "w.bf16": _bf16(weight), "bias.f32": bias.numpy()}, 3, 2880, 301)
    expected = torch.nn.functional.linear(x, weight.float(), bias)
    assert relative_errors(torch.from_numpy(out.copy()).view(3, 301), expected)[0] <= 1e-5

    T, S, Hq, Hkv, hd = 2, 200, 64, 8, 64
    q = torch.randn(T, Hq, hd, generator=g)
    k, v = torch.randn(S, Hkv, hd, generator=g), torch.randn(S, Hkv, hd, generator=g)
    sinks, qpos, kpos = torch.randn(Hq, generator=g), torch.arange(S - T, S), torch.arange(S)
    arrays = {"q.f32": q.numpy(), "k.bf16": _bf16(k), "v.bf16": _bf16(v), "sinks.f32": sinks.numpy(),
              "qpos.i64": qpos.numpy(), "kpos.i64": kpos.numpy()}
    out, _ = run_harness(neon_harness["neon"], "attention", tmp_path, arrays, T, S, Hq, Hkv, hd, 128, 0.125)
    expected = attention_torch(q, k.bfloat16().float(), v.bfloat16().float(), sinks, qpos, kpos, 128, 0.125)
    assert relative_errors(torch.from_numpy(out.copy()).view(T, Hq * hd), expected)[0] <= 1e-5
