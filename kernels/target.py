"""What the device can do, and how kernels are launched or compiled for it.

- `run` is the default `launch` of every private kernel module: it launches a Triton kernel
  (compiled on a GPU, interpreted on CPU tensors under TRITON_INTERPRET=1).
- `Recorder` is the other `launch`: it keeps the launches instead of running them, so the
  exact arguments the engine passes (dtypes, specialisations, constexprs) can be compiled
  for each CUDA target by `compile_for` on a machine with no GPU.
- `CUDA_TARGETS`, `kernel_device`, `peak_bandwidth`: which GPUs the kernels serve.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

# Compute capabilities the kernels are built for: Ampere (A100 80, RTX 30xx 86), Ada (89),
# Hopper (90), Blackwell data centre (100) and consumer (120). Triton 3.7.1 ships a ptxas
# for each (its own CUDA 12.8 ptxas, and a CUDA 13 one for Blackwell).
CUDA_TARGETS = (80, 86, 89, 90, 100, 120)
MIN_CAPABILITY = 80  # bf16 tensor cores; older cards run the torch backend


def run(kernel, grid, *args, **constexprs):
    """Launches `kernel` over `grid` now."""
    kernel[grid](*args, **constexprs)


@dataclass
class Launch:
    kernel: object
    grid: tuple
    args: tuple
    constexprs: dict


@dataclass
class Recorder:
    """A `launch` that records instead of running; use with tensors on the meta device."""
    launches: list[Launch] = field(default_factory=list)

    def __call__(self, kernel, grid, *args, **constexprs):
        self.launches.append(Launch(kernel, tuple(grid), args, constexprs))


def compile_for(launch: Launch, capability: int):
    """Compiles one recorded launch to a cubin for sm_`capability`, specialised exactly as
    Triton's runtime would specialise it (pointer alignment, integer divisibility)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, make_backend
    from triton.runtime.jit import create_function_from_signature

    kernel = launch.kernel
    if not hasattr(kernel, "params"):
        raise RuntimeError("compile_for needs real @triton.jit kernels: unset TRITON_INTERPRET.")
    target = GPUTarget("cuda", capability, 32)
    backend = make_backend(target)
    binder = create_function_from_signature(kernel.signature, kernel.params, backend)
    bound, specialization, options = binder(*launch.args, **launch.constexprs)
    options, signature, constexprs, attrs = kernel._pack_args(backend, dict(launch.constexprs), bound,
                                                              specialization, options)
    return triton.compile(ASTSource(kernel, signature, constexprs, attrs), target=target,
                          options=options.__dict__)


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def kernel_device(device: torch.device) -> bool:
    """True when the Triton kernels can run on `device`: a CUDA GPU of capability >= 8.0,
    or CPU tensors under the Triton interpreter."""
    device = torch.device(device)
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return 10 * major + minor >= MIN_CAPABILITY
    return device.type == "cpu" and interpreting()


def default_backend(device: torch.device) -> str:
    """"triton" on a GPU the kernels serve, "cpu" on a processor the compiled kernels run on
    (kernels/_cpu.py), "torch" everywhere else."""
    device = torch.device(device)
    if device.type == "cuda":
        return "triton" if kernel_device(device) else "torch"
    if device.type == "cpu" and not interpreting():
        from kernels import _cpu

        return "cpu" if _cpu.available() is not None else "torch"
    return "torch"


def peak_bandwidth(device: torch.device) -> float | None:
    """The GPU's peak memory bandwidth in bytes/s (NVML: 2 transfers per memory clock x
    bus width), or None when it cannot be read."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        index = torch.device(device).index or 0
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        clock_hz = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM) * 1e6
        bus_bytes = pynvml.nvmlDeviceGetMemoryBusWidth(handle) / 8
        return 2 * clock_hz * bus_bytes
    except pynvml.NVMLError:
        return None
