"""The compiled CPU kernels (kernels/cpu/*.c), loaded with ctypes: the best build for this processor.

One library per instruction set, built by kernels/cpu_build.py: avx512-vnni, avx512, avx2
and scalar on x86-64; neon and scalar on AArch64. `HEARTH_CPU_KERNELS` picks one by name
(tests force each path this way), or "off" for the PyTorch path.

The ops take torch tensors and pass their memory to C: experts are read in place from the
memory-mapped checkpoint, nothing is copied. ctypes releases the GIL during each call.
"""

from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from kernels.cpu_build import OUT, host_arch, library_name

LIB_DIR = OUT  # where kernels/cpu_build.py puts the libraries (in the bundle too)
ENV = "HEARTH_CPU_KERNELS"
PREFERENCE = {"x86_64": ("avx512-vnni", "avx512", "avx2", "scalar"), "aarch64": ("neon", "scalar")}
_DTYPES = {torch.float32: 0, torch.bfloat16: 1}

_p, _i, _f = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
_SIGNATURES = {
    "hearth_isa": (ctypes.c_char_p, []),
    "hearth_cpu_supported": (_i, []),
    "hearth_set_threads": (None, [_i]),
    "hearth_threads": (_i, []),
    "hearth_moe": (_i, [_i, _i, _i, _i, _i, _p, _i, _p, _p, _p, _p, _p, _p, _p, _p, _i, _f, _f, _p]),
    "hearth_linear_bf16": (None, [_i, _i, _i, _p, _i, _p, _p, _i, _p]),
    "hearth_project": (_i, [_i, _i, _p, _i, _p, _i, _f, _i, _p, _p, _p, _i, _p, _p, _p, _i, _i]),
    "hearth_attention": (_i, [_i, _i, _i, _i, _i, _p, _i, _p, _p, _i, _p, _p, _p, _i, _f, _p]),
}


class KernelsUnavailable(RuntimeError):
    """The compiled kernels cannot run here; the message says why, for a person."""


@dataclass(frozen=True)
class CpuKernels:
    isa: str
    lib: ctypes.CDLL
    path: Path

    @property
    def threads(self) -> int:
        return self.lib.hearth_threads()

    def set_threads(self, n: int) -> None:
        self.lib.hearth_set_threads(int(n))

    def moe(self, x, chosen, weights, experts, swiglu_limit: float, swiglu_alpha: float) -> torch.Tensor:
        """x [T, D], chosen [T, K] expert ids, weights [T, K] -> float32 [T, D] (kernels/cpu/moe.c)."""
        T, D = x.shape
        E, rows, _, _ = experts.gate_up_blocks.shape
        x = _dense(x)
        chosen = chosen.to(torch.int32).contiguous()
        weights = weights.to(torch.float32).contiguous()
        bias_dtype = experts.gate_up_bias.dtype
        gate_up_bias = _dense(experts.gate_up_bias)
        down_bias = _dense(experts.down_bias.to(bias_dtype))
        blocks = [_packed(t) for t in (experts.gate_up_blocks, experts.gate_up_scales,
                                       experts.down_blocks, experts.down_scales)]
        out = torch.empty(T, D, dtype=torch.float32)
        status = self.lib.hearth_moe(
            T, D, rows // 2, E, chosen.shape[1], x.data_ptr(), _DTYPES[x.dtype], chosen.data_ptr(), weights.data_ptr(),
            blocks[0].data_ptr(), blocks[1].data_ptr(), gate_up_bias.data_ptr(), blocks[2].data_ptr(),
            blocks[3].data_ptr(), down_bias.data_ptr(), _DTYPES[bias_dtype], swiglu_limit, swiglu_alpha,
            out.data_ptr())
        _check(status, "the experts")
        return out

    def linear(self, x, weight, bias=None) -> torch.Tensor:
        """x [T, C] @ weight [N, C]^T + bias -> float32 [T, N]; weight bfloat16 (kernels/cpu/linear.c)."""
        T, C = x.shape
        N = weight.shape[0]
        x, weight = _dense(x), weight.contiguous()
        bias = _dense(bias) if bias is not None else None
        y = torch.empty(T, N, dtype=torch.float32)
        self.lib.hearth_linear_bf16(T, C, N, x.data_ptr(), _DTYPES[x.dtype], weight.data_ptr(),
                                    bias.data_ptr() if bias is not None else None,
                                    _DTYPES[bias.dtype] if bias is not None else 0, y.data_ptr())
        return y

    def project(self, x, norm, eps: float, weights, biases, cos=None, sin=None, rope_outputs: int = 0,
                head_dim: int = 0) -> list[torch.Tensor]:
        """[norm(x) @ w^T + b for w, b in zip(weights, biases)] as float32 [T, N], from one pass over
        the weights (kernels/cpu/linear.c): norm(x) = x * rsqrt(mean(x^2) + eps) * norm (or x when
        norm is None); the first `rope_outputs` outputs then rotated by cos/sin [T, head_dim/2]."""
        T, C = x.shape
        x = _dense(x)
        norm = _dense(norm) if norm is not None else None
        weights = [w.contiguous() for w in weights]
        given = [b for b in biases if b is not None]
        bias_dtype = given[0].dtype if given and given[0].dtype in _DTYPES else torch.float32
        biases = [_dense(b.to(bias_dtype)) if b is not None else None for b in biases]
        outs = [torch.empty(T, w.shape[0], dtype=torch.float32) for w in weights]
        M = len(weights)
        rotate = cos is not None and sin is not None
        if rotate:
            cos, sin = cos.to(torch.float32).contiguous(), sin.to(torch.float32).contiguous()
        rows = (ctypes.c_int * M)(*(w.shape[0] for w in weights))
        weight_ptrs = (_p * M)(*(w.data_ptr() for w in weights))
        bias_ptrs = (_p * M)(*(b.data_ptr() if b is not None else None for b in biases))
        out_ptrs = (_p * M)(*(o.data_ptr() for o in outs))
        status = self.lib.hearth_project(
            T, C, x.data_ptr(), _DTYPES[x.dtype], norm.data_ptr() if norm is not None else None,
            _DTYPES[norm.dtype] if norm is not None else 0, eps, M, rows, weight_ptrs, bias_ptrs,
            _DTYPES[bias_dtype], out_ptrs, cos.data_ptr() if rotate else None,
            sin.data_ptr() if rotate else None, rope_outputs if rotate else 0, head_dim)
        _check(status, "the projections")
        return outs

    def attention(self, q, k, v, sinks, q_positions, k_positions, sliding_window, sm_scale) -> torch.Tensor:
        """q [T, Hq, hd], k/v [S, Hkv, hd] -> float32 [T, Hq*hd] (kernels/cpu/attention.c)."""
        T, Hq, hd = q.shape
        S, Hkv, _ = k.shape
        q, k, v = _dense(q), _dense(k), _dense(v.to(k.dtype))
        sinks = sinks.to(torch.float32).contiguous()
        qp = q_positions.to(torch.int64).contiguous()
        kp = k_positions.to(torch.int64).contiguous()
        out = torch.empty(T, Hq * hd, dtype=torch.float32)
        status = self.lib.hearth_attention(T, S, Hq, Hkv, hd, q.data_ptr(), _DTYPES[q.dtype], k.data_ptr(),
                                           v.data_ptr(), _DTYPES[k.dtype], sinks.data_ptr(), qp.data_ptr(),
                                           kp.data_ptr(), sliding_window or 0, sm_scale, out.data_ptr())
        _check(status, "attention")
        return out


def _dense(t: torch.Tensor) -> torch.Tensor:
    """Contiguous, in a dtype the C code reads (float32 or bfloat16)."""
    if t.dtype not in _DTYPES:
        t = t.float()
    return t.contiguous()


def _packed(t: torch.Tensor) -> torch.Tensor:
    if t.dtype != torch.uint8 or not t.is_contiguous():
        raise KernelsUnavailable("The expert weights are not in the published MXFP4 layout.")
    return t


def _check(status: int, what: str) -> None:
    if status == -1:
        raise MemoryError(f"Not enough memory for {what}'s working buffers.")
    if status != 0:
        raise ValueError(f"The compiled kernels cannot compute {what} for these shapes.")


def _open(isa: str) -> CpuKernels:
    path = LIB_DIR / library_name(isa)
    if not path.exists():
        raise KernelsUnavailable(f"the {isa} kernels were not built ({path.name} is missing)")
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as error:
        raise KernelsUnavailable(f"the {isa} kernels do not load ({error})") from error
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    if not lib.hearth_cpu_supported():
        raise KernelsUnavailable(f"this processor cannot run the {isa} kernels")
    kernels = CpuKernels(lib.hearth_isa().decode(), lib, path)
    kernels.set_threads(torch.get_num_threads())
    return kernels


@functools.cache
def load(isa: str | None = None) -> CpuKernels:
    """The kernels for `isa`, or the best this processor runs; raises KernelsUnavailable."""
    wanted = isa or os.environ.get(ENV, "").strip().lower() or None
    if wanted == "off":
        raise KernelsUnavailable(f"they are switched off ({ENV}=off)")
    if wanted:
        return _open(wanted)
    arch = host_arch()
    reasons = []
    for candidate in PREFERENCE.get(arch, ()):
        try:
            return _open(candidate)
        except KernelsUnavailable as error:
            reasons.append(str(error))
    if not reasons:
        raise KernelsUnavailable(f"there are none for the {arch} processor architecture")
    raise KernelsUnavailable(reasons[-1] if len(reasons) == 1 else "; ".join(reasons[-2:]))


def available() -> CpuKernels | None:
    try:
        return load()
    except KernelsUnavailable:
        return None


def describe() -> str:
    """One sentence for a person: which processor path Hearth uses, and why."""
    try:
        kernels = load()
    except KernelsUnavailable as error:
        return (f"Processor path: PyTorch, several times slower than the compiled kernels, because {error}. "
                "Reinstalling Hearth builds them (`python -m kernels.cpu_build`).")
    return f"Processor path: compiled {kernels.isa} kernels, {kernels.threads} threads."
